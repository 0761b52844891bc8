//! Wire types shared by several operations, and the household's wire form, each converted from
//! the use cases' answers. These are the JSON shapes clients rely on: change a field's name or
//! type only as an API change.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use xiuhua_app::registry::{HouseholdSummary, HouseholdView, mask_id};
use xiuhua_domain::event::Event;
use xiuhua_rules::RuleSet;

/// One household in a list.
#[derive(Serialize, ToSchema)]
pub struct HouseholdSummaryDto {
    /// Id.
    pub id: i64,
    /// 户编号.
    pub household_no: String,
    /// 户主姓名.
    pub head_name: String,
    /// 户主证件号码 (masked for roles that may not see it).
    pub head_id_number: String,
    /// 行政村 code.
    pub village_code: String,
    /// `general`, `poor` or `lifted`.
    pub status: String,
    /// `none`, `monitored` or `eliminated`.
    pub monitoring: String,
    /// 脱贫年度.
    pub exit_year: Option<i32>,
    /// Number of members.
    pub member_count: i32,
}

impl From<HouseholdSummary> for HouseholdSummaryDto {
    fn from(r: HouseholdSummary) -> HouseholdSummaryDto {
        HouseholdSummaryDto {
            id: r.id,
            household_no: r.household_no,
            head_name: r.head_name,
            head_id_number: r.head_id_number,
            village_code: r.village_code,
            status: r.status.as_str().into(),
            monitoring: r.monitoring.as_str().into(),
            exit_year: r.exit_year,
            member_count: r.member_count,
        }
    }
}

/// A page of households.
#[derive(Serialize, ToSchema)]
pub struct HouseholdListResponse {
    /// Matching households in total.
    pub total: i64,
    /// Page number.
    pub page: i64,
    /// Page size.
    pub per_page: i64,
    /// The page.
    pub items: Vec<HouseholdSummaryDto>,
}

/// A member.
#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    /// Member id.
    pub id: i64,
    /// 姓名.
    pub name: String,
    /// 证件号码 (masked for roles that may not see it).
    pub id_number: String,
    /// Sex code (1 男, 2 女).
    pub sex: String,
    /// 出生日期.
    pub birth_date: Option<String>,
    /// 与户主关系 code.
    pub relation: String,
    /// All other member fields, as stored (code values).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl MemberDto {
    fn new(m: &xiuhua_domain::Member, full: bool) -> MemberDto {
        let mut details = serde_json::to_value(m).unwrap_or_default();
        if let Some(o) = details.as_object_mut() {
            for k in ["id", "name", "id_number", "sex", "birth_date", "relation"] {
                o.remove(k);
            }
            if !full {
                o.remove("phone");
            }
        }
        MemberDto {
            id: m.id,
            name: m.name.clone(),
            id_number: mask_id(&m.id_number, full),
            sex: m.sex.clone(),
            birth_date: m.birth_date.map(|d| d.to_string()),
            relation: m.relation.clone(),
            details,
        }
    }
}

/// A history event.
#[derive(Serialize, ToSchema)]
pub struct EventDto {
    /// Event id.
    pub id: i64,
    /// Kind (`created`, `edited`, `status_changed`, `member_added`, …).
    pub kind: String,
    /// Who.
    pub actor: String,
    /// When written (RFC 3339).
    pub recorded_at: String,
    /// From when it is true.
    pub effective_date: String,
    /// Why.
    pub reason: String,
    /// Source kind.
    pub source: String,
    /// Source reference.
    pub source_ref: Option<String>,
    /// The changes (`op`: create, set_fields, add_member, update_member, remove_member).
    #[schema(value_type = Vec<Object>)]
    pub changes: serde_json::Value,
}

impl EventDto {
    /// The event; its raw changes only for users who may see personal data (`full`).
    fn new(e: &Event, full: bool) -> EventDto {
        EventDto {
            id: e.id,
            kind: e.kind.as_str().into(),
            actor: e.actor.clone(),
            recorded_at: e
                .recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            effective_date: e.effective_date.to_string(),
            reason: e.reason.clone(),
            source: e.source.as_str().into(),
            source_ref: e.source_ref.clone(),
            changes: if full {
                serde_json::to_value(&e.changes).unwrap_or_default()
            } else {
                serde_json::Value::Array(vec![])
            },
        }
    }
}

/// A household with its history.
#[derive(Serialize, ToSchema)]
pub struct HouseholdDto {
    /// Id.
    pub id: i64,
    /// Version; send it back when editing.
    pub version: i64,
    /// The date shown, if "as of".
    pub as_of: Option<String>,
    /// Whether the household existed on that date.
    pub exists: bool,
    /// Household fields (see docs/api-design.md for the field list).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// Members at that date.
    pub members: Vec<MemberDto>,
    /// 年人均纯收入 in 分.
    pub per_capita_income_fen: Option<i64>,
    /// The whole history, oldest first.
    pub events: Vec<EventDto>,
}

impl HouseholdDto {
    /// Household `id` as of `as_of` from the use case's answer. Phones are left out for users
    /// who may not see personal data (the answer has already masked the rest).
    pub fn new(id: i64, as_of: Option<NaiveDate>, v: &HouseholdView) -> HouseholdDto {
        let full = v.full_personal_data;
        let mut fields = serde_json::to_value(&v.state.fields).unwrap_or_default();
        if !full && let Some(o) = fields.as_object_mut() {
            o.insert("phone".into(), serde_json::Value::Null);
        }
        HouseholdDto {
            id,
            version: v.version,
            as_of: as_of.map(|d| d.to_string()),
            exists: !v.state.fields.household_no.is_empty(),
            fields,
            per_capita_income_fen: v.state.per_capita_income().map(|f| f.0),
            members: v
                .state
                .members
                .iter()
                .map(|m| MemberDto::new(m, full))
                .collect(),
            events: v.events.iter().map(|e| EventDto::new(e, full)).collect(),
        }
    }
}

/// Shown fields of a rule set in lists.
#[derive(Serialize, ToSchema)]
pub struct RuleSetSummary {
    /// Id.
    pub id: String,
    /// Version in force.
    pub version: i64,
    /// Chinese name.
    pub name: String,
    /// household | village | county
    pub level: String,
    /// exit | identification | monitoring | quality
    pub purpose: String,
    /// Region-code prefix ("" = national).
    pub region: String,
    /// First and last year.
    pub years: String,
    /// Number of items.
    pub items: usize,
    /// Some value or the whole set is not confirmed.
    pub unconfirmed: bool,
}

/// Whether the set, one of its parameters or one of its items is not confirmed.
pub fn unconfirmed(s: &RuleSet) -> bool {
    s.def.unconfirmed
        || s.def.params.values().any(|p| p.unconfirmed)
        || s.items.iter().any(|i| i.def.unconfirmed)
}

/// The years a rule set applies to, as shown ("2021—", "2021—2025").
pub fn rule_set_years(s: &RuleSet) -> String {
    match s.def.years.as_slice() {
        [a] => format!("{a}—"),
        [a, b] => format!("{a}—{b}"),
        _ => String::new(),
    }
}

/// The region a rule set applies to, as shown ("全国" for national sets).
pub fn rule_set_region(s: &RuleSet) -> String {
    if s.def.region.is_empty() {
        "全国".into()
    } else {
        s.def.region.clone()
    }
}

impl From<&RuleSet> for RuleSetSummary {
    fn from(s: &RuleSet) -> RuleSetSummary {
        RuleSetSummary {
            id: s.def.id.clone(),
            version: s.def.version,
            name: s.def.name.clone(),
            level: s.def.level.label_zh().into(),
            purpose: s.def.purpose.label_zh().into(),
            region: rule_set_region(s),
            years: rule_set_years(s),
            items: s.items.len(),
            unconfirmed: unconfirmed(s),
        }
    }
}
