//! Wire types shared by several operations, and the household's wire form, each converted from
//! the use cases' answers. These are the JSON shapes clients rely on: change a field's name or
//! type only as an API change.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;
use xiuhua_app::registry::{HouseholdSummary, HouseholdView, mask_id};
use xiuhua_domain::event::Event;
use xiuhua_domain::{FieldValue, HouseholdFields, Income, Member};
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

/// A value of a catalogue field without a typed slot (an `extra` entry): text (also codes,
/// ISO dates), a boolean, a whole number (also money in 分), a decimal, or a set of codes.
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum ExtraValueDto {
    /// Text, a code, a region code, an identity number or an ISO date.
    Text(String),
    /// 是/否.
    Bool(bool),
    /// A whole number, a year, or money in 分.
    Int(i64),
    /// A decimal number.
    Decimal(f64),
    /// A set of codes.
    Codes(Vec<String>),
}

impl From<&FieldValue> for ExtraValueDto {
    fn from(v: &FieldValue) -> ExtraValueDto {
        match v {
            FieldValue::Text(s) => ExtraValueDto::Text(s.clone()),
            FieldValue::Bool(b) => ExtraValueDto::Bool(*b),
            FieldValue::Int(n) => ExtraValueDto::Int(*n),
            FieldValue::Decimal(x) => ExtraValueDto::Decimal(*x),
            FieldValue::Codes(c) => ExtraValueDto::Codes(c.clone()),
            FieldValue::Date(d) => ExtraValueDto::Text(d.to_string()),
            FieldValue::Money(f) => ExtraValueDto::Int(f.0),
        }
    }
}

/// The `extra` map: catalogue field name → value.
fn extra_dto(extra: &BTreeMap<String, FieldValue>) -> BTreeMap<String, ExtraValueDto> {
    extra.iter().map(|(k, v)| (k.clone(), v.into())).collect()
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// 收入构成 of the latest assessed year, in 分.
///
/// Fields are declared in alphabetical order, the order the API has always answered with.
#[derive(Serialize, ToSchema)]
pub struct IncomeDto {
    /// 生产经营性收入.
    pub business: i64,
    /// 生产经营性支出.
    pub business_cost: i64,
    /// 财产性收入.
    pub property: i64,
    /// 转移性收入.
    pub transfer: i64,
    /// 工资性收入.
    pub wage: i64,
    /// Year the figures refer to.
    pub year: Option<i32>,
}

impl From<&Income> for IncomeDto {
    fn from(i: &Income) -> IncomeDto {
        IncomeDto {
            business: i.business.0,
            business_cost: i.business_cost.0,
            property: i.property.0,
            transfer: i.transfer.0,
            wage: i.wage.0,
            year: i.year,
        }
    }
}

/// A household's own fields, under the stored field names of `xiuhua_domain::HouseholdFields`;
/// coded fields hold codes from the code lists (docs/api-design.md).
///
/// Fields are declared in alphabetical order, the order the API has always answered with.
#[derive(Serialize, ToSchema)]
pub struct HouseholdFieldsDto {
    /// 贫困户属性 (code list `household_attribute`).
    pub attribute: Option<String>,
    /// 银行账号 (masked for roles that may not see it).
    pub bank_account: Option<String>,
    /// 开户银行.
    pub bank_name: Option<String>,
    /// 致贫原因说明.
    pub cause_note: Option<String>,
    /// 脱贫批次 (code list `exit_batch`).
    pub exit_batch: Option<String>,
    /// 脱贫年度.
    pub exit_year: Option<i32>,
    /// Catalogue fields without a typed slot, by name.
    pub extra: BTreeMap<String, ExtraValueDto>,
    /// 核查事实 (入户核查): recorded values of the inputs the rule sets declare, by input name.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub facts: BTreeMap<String, serde_json::Value>,
    /// 耕地面积 (亩).
    pub farmland_mu: Option<f64>,
    /// 林地面积 (亩).
    pub forest_mu: Option<f64>,
    /// 主要燃料类型 (code list `fuel_type`).
    pub fuel_type: Option<String>,
    /// 村民小组/自然屯 code.
    pub group_code: Option<String>,
    /// 是否通生活用电.
    pub has_living_power: Option<bool>,
    /// 是否通生产用电.
    pub has_production_power: Option<bool>,
    /// 有无卫生厕所.
    pub has_toilet: Option<bool>,
    /// 户编号.
    pub household_no: String,
    /// 住房面积 (㎡).
    pub housing_area_m2: Option<f64>,
    /// 住房安全等级 (code list `housing_safety`).
    pub housing_safety: Option<String>,
    /// 识别标准 (code list `identification_standard`).
    pub identification_standard: Option<String>,
    /// 识别年度.
    pub identified_year: Option<i32>,
    /// 收入构成.
    pub income: IncomeDto,
    /// 是否军烈属.
    pub is_military_family: bool,
    /// 是否易地扶贫搬迁户.
    pub is_relocated: bool,
    /// 主要致贫原因 (code list `poverty_cause`).
    pub main_cause: Option<String>,
    /// 监测对象类型 (code list `monitor_type`).
    pub monitor_type: Option<String>,
    /// 监测状态: `none`, `monitored` or `eliminated`.
    pub monitoring: String,
    /// 其他致贫原因 (code list `poverty_cause`).
    pub other_causes: Vec<String>,
    /// 联系电话 (null for roles that may not see personal data).
    pub phone: Option<String>,
    /// 计划脱贫年度.
    pub planned_exit_year: Option<i32>,
    /// 风险消除时间 (YYYY-MM-DD).
    #[schema(format = Date)]
    pub risk_eliminated_on: Option<String>,
    /// 风险识别时间 (YYYY-MM-DD).
    #[schema(format = Date)]
    pub risk_identified_on: Option<String>,
    /// 入户路类型 (code list `road_type`).
    pub road_type: Option<String>,
    /// 户类型: `general`, `poor` or `lifted`.
    pub status: String,
    /// 行政村 code (12 digits).
    pub village_code: String,
    /// 饮水是否困难.
    pub water_difficult: Option<bool>,
    /// 饮水是否安全.
    pub water_safe: Option<bool>,
}

impl HouseholdFieldsDto {
    /// The fields as answered; the phone only for users who may see personal data (`full`).
    pub fn new(f: &HouseholdFields, full: bool) -> HouseholdFieldsDto {
        HouseholdFieldsDto {
            attribute: f.attribute.clone(),
            bank_account: f.bank_account.clone(),
            bank_name: f.bank_name.clone(),
            cause_note: f.cause_note.clone(),
            exit_batch: f.exit_batch.clone(),
            exit_year: f.exit_year,
            extra: extra_dto(&f.extra),
            facts: f.facts.clone(),
            farmland_mu: f.farmland_mu,
            forest_mu: f.forest_mu,
            fuel_type: f.fuel_type.clone(),
            group_code: f.group_code.clone(),
            has_living_power: f.has_living_power,
            has_production_power: f.has_production_power,
            has_toilet: f.has_toilet,
            household_no: f.household_no.clone(),
            housing_area_m2: f.housing_area_m2,
            housing_safety: f.housing_safety.clone(),
            identification_standard: f.identification_standard.clone(),
            identified_year: f.identified_year,
            income: (&f.income).into(),
            is_military_family: f.is_military_family,
            is_relocated: f.is_relocated,
            main_cause: f.main_cause.clone(),
            monitor_type: f.monitor_type.clone(),
            monitoring: f.monitoring.as_str().into(),
            other_causes: f.other_causes.clone(),
            phone: f.phone.clone().filter(|_| full),
            planned_exit_year: f.planned_exit_year,
            risk_eliminated_on: date(f.risk_eliminated_on),
            risk_identified_on: date(f.risk_identified_on),
            road_type: f.road_type.clone(),
            status: f.status.as_str().into(),
            village_code: f.village_code.clone(),
            water_difficult: f.water_difficult,
            water_safe: f.water_safe,
        }
    }
}

/// A member's fields other than those [`MemberDto`] names, under their stored names; coded
/// fields hold codes.
///
/// Fields are declared in alphabetical order, the order the API has always answered with.
#[derive(Serialize, ToSchema)]
pub struct MemberDetailsDto {
    /// 残疾类别 (code list `disability_category`).
    pub disability_category: Option<String>,
    /// 残疾等级 (code list `disability_grade`).
    pub disability_grade: Option<String>,
    /// 文化程度 (code list `education`).
    pub education: Option<String>,
    /// 民族 (code list `ethnicity`).
    pub ethnicity: Option<String>,
    /// Catalogue fields without a typed slot, by name.
    pub extra: BTreeMap<String, ExtraValueDto>,
    /// 是否参加城乡居民基本医疗保险 (`null`: not known).
    pub has_medical_insurance: Option<bool>,
    /// 是否参加城乡居民基本养老保险 (`null`: not known).
    pub has_pension_insurance: Option<bool>,
    /// 健康状况 (code list `health`).
    pub health: Vec<String>,
    /// 是否享受低保 (`null`: not known).
    pub is_dibao: Option<bool>,
    /// 是否特困供养 (`null`: not known).
    pub is_tekun: Option<bool>,
    /// 劳动技能 (code list `labour`).
    pub labour: Option<String>,
    /// 婚姻状况 (code list `marital`).
    pub marital: Option<String>,
    /// 联系电话; left out for roles that may not see personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// 政治面貌 (code list `political`).
    pub political: Option<String>,
    /// 在校生状况 (code list `schooling`).
    pub schooling: Option<String>,
    /// 务工时间 (months in the year).
    pub work_months: Option<i32>,
    /// 务工状况 (code list `work_status`).
    pub work_status: Option<String>,
}

impl MemberDetailsDto {
    fn new(m: &Member, full: bool) -> MemberDetailsDto {
        MemberDetailsDto {
            disability_category: m.disability_category.clone(),
            disability_grade: m.disability_grade.clone(),
            education: m.education.clone(),
            ethnicity: m.ethnicity.clone(),
            extra: extra_dto(&m.extra),
            has_medical_insurance: m.has_medical_insurance,
            has_pension_insurance: m.has_pension_insurance,
            health: m.health.clone(),
            is_dibao: m.is_dibao,
            is_tekun: m.is_tekun,
            labour: m.labour.clone(),
            marital: m.marital.clone(),
            phone: full.then(|| m.phone.clone()),
            political: m.political.clone(),
            schooling: m.schooling.clone(),
            work_months: m.work_months,
            work_status: m.work_status.clone(),
        }
    }
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
    /// 出生日期; `null` for roles that may not see personal data (they get `birth_year` only:
    /// beside the masked identity number the full date would give it back).
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    /// 出生年份.
    pub birth_year: Option<i32>,
    /// 与户主关系 code.
    pub relation: String,
    /// All other member fields.
    pub details: MemberDetailsDto,
}

impl MemberDto {
    /// The member; identity number masked, birth date reduced to the year and phone left out
    /// unless the user may see personal data (`full`).
    pub fn new(m: &Member, full: bool) -> MemberDto {
        MemberDto {
            id: m.id,
            name: m.name.clone(),
            id_number: mask_id(&m.id_number, full),
            sex: m.sex.clone(),
            birth_date: if full { date(m.birth_date) } else { None },
            birth_year: m.birth_date.map(|d| d.year()),
            relation: m.relation.clone(),
            details: MemberDetailsDto::new(m, full),
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
    /// Household fields.
    pub fields: HouseholdFieldsDto,
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
        HouseholdDto {
            id,
            version: v.version,
            as_of: as_of.map(|d| d.to_string()),
            exists: !v.state.fields.household_no.is_empty(),
            fields: HouseholdFieldsDto::new(&v.state.fields, full),
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
    /// The set as a whole is not confirmed (未经证实; its parameters and items carry their own
    /// marks).
    pub unconfirmed: bool,
}

/// Whether the set as a whole is not confirmed (`RuleSet::is_unconfirmed`, as the CLI says).
pub fn unconfirmed(s: &RuleSet) -> bool {
    s.is_unconfirmed()
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use xiuhua_domain::{
        Fen, FieldValue, HouseholdFields, Income, Member, MonitoringStatus, RegistryStatus,
    };

    use super::{HouseholdFieldsDto, MemberDetailsDto};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.into())
    }

    fn extra() -> std::collections::BTreeMap<String, FieldValue> {
        [
            ("a_text", FieldValue::Text("x".into())),
            ("b_bool", FieldValue::Bool(true)),
            ("c_int", FieldValue::Int(-7)),
            ("d_decimal", FieldValue::Decimal(1.25)),
            ("e_codes", FieldValue::Codes(vec!["01".into(), "02".into()])),
            ("f_date", FieldValue::Date(day(2020, 2, 29))),
            ("g_money", FieldValue::Money(Fen(123_456))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Every field holding something, so a field the DTO forgot or renamed shows.
    fn full_fields() -> HouseholdFields {
        HouseholdFields {
            household_no: "451228101201001".into(),
            village_code: "451228101201".into(),
            group_code: s("451228101201001"),
            phone: s("13812345678"),
            bank_name: s("农商行"),
            bank_account: s("6228480012345678"),
            identification_standard: s("1"),
            attribute: s("2"),
            main_cause: s("01"),
            other_causes: vec!["02".into(), "03".into()],
            cause_note: s("因病"),
            status: RegistryStatus::Lifted,
            identified_year: Some(2014),
            planned_exit_year: Some(2018),
            exit_year: Some(2018),
            exit_batch: s("2"),
            monitoring: MonitoringStatus::Monitored,
            monitor_type: s("1"),
            risk_identified_on: Some(day(2021, 3, 1)),
            risk_eliminated_on: Some(day(2022, 4, 2)),
            is_military_family: true,
            is_relocated: true,
            housing_area_m2: Some(80.5),
            housing_safety: s("A"),
            water_safe: Some(true),
            water_difficult: Some(false),
            has_living_power: Some(true),
            has_production_power: Some(false),
            road_type: s("1"),
            fuel_type: s("2"),
            has_toilet: Some(true),
            farmland_mu: Some(2.3),
            forest_mu: Some(10.0),
            income: Income {
                year: Some(2018),
                wage: Fen(1_234_500),
                business: Fen(300_000),
                property: Fen(1),
                transfer: Fen(50_000),
                business_cost: Fen(1_000),
            },
            extra: extra(),
            facts: [("no_worry_food_clothing".to_string(), true.into())]
                .into_iter()
                .collect(),
        }
    }

    fn full_member() -> Member {
        Member {
            id: 7,
            name: "韦桂英".into(),
            id_number: "451228197001020112".into(),
            sex: "2".into(),
            birth_date: Some(day(1970, 1, 2)),
            relation: "01".into(),
            ethnicity: s("08"),
            political: s("01"),
            marital: s("20"),
            education: s("3"),
            schooling: s("1"),
            health: vec!["2".into(), "3".into()],
            disability_category: s("1"),
            disability_grade: s("2"),
            labour: s("1"),
            work_status: s("1"),
            work_months: Some(6),
            has_medical_insurance: Some(true),
            has_pension_insurance: Some(true),
            is_dibao: Some(true),
            is_tekun: Some(true),
            phone: s("13900000000"),
            extra: extra(),
        }
    }

    /// The household fields as the API answered before they were typed: the domain struct as
    /// a JSON object, the phone nulled for users without personal-data rights.
    fn untyped_fields(f: &HouseholdFields, full: bool) -> String {
        let mut v = serde_json::to_value(f).unwrap();
        if !full {
            v.as_object_mut()
                .unwrap()
                .insert("phone".into(), serde_json::Value::Null);
        }
        v.to_string()
    }

    /// A member's details as the API answered before they were typed.
    fn untyped_details(m: &Member, full: bool) -> String {
        let mut v = serde_json::to_value(m).unwrap();
        let o = v.as_object_mut().unwrap();
        for k in ["id", "name", "id_number", "sex", "birth_date", "relation"] {
            o.remove(k);
        }
        if !full {
            o.remove("phone");
        }
        v.to_string()
    }

    #[test]
    fn typed_household_fields_answer_the_same_json_bytes() {
        for f in [full_fields(), HouseholdFields::default()] {
            for full in [true, false] {
                let typed = serde_json::to_string(&HouseholdFieldsDto::new(&f, full)).unwrap();
                assert_eq!(typed, untyped_fields(&f, full), "full: {full}");
            }
        }
    }

    #[test]
    fn typed_member_details_answer_the_same_json_bytes() {
        for m in [full_member(), Member::default()] {
            for full in [true, false] {
                let typed = serde_json::to_string(&MemberDetailsDto::new(&m, full)).unwrap();
                assert_eq!(typed, untyped_details(&m, full), "full: {full}");
            }
        }
    }
}
