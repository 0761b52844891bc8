//! The household page: attributes with code labels, members, checklists of the rule sets in
//! force, stored decisions, the history (every event, newest first) and the edit form.

use std::collections::HashMap;

use askama::Template;
use chrono::NaiveDate;
use serde_json::Value;
use xiuhua_app::registry::{HouseholdView, mask_id};
use xiuhua_app::rules::{Checklist, RuleBook, RunRow};
use xiuhua_domain::display::{format_fen, format_json_number};
use xiuhua_domain::event::{Change, Event};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::{CodeCatalog, Fen, FieldCatalog, Member, MonitoringStatus, RegistryStatus};
use xiuhua_rules::Outcome;

use super::Layout;
use super::household_changes::{ChangeForms, Kept};
use super::household_edit::{EditForm, edit_form};
use crate::i18n::{Lang, T, field_label, field_list};

/// What the household page shows, as the use cases answered.
pub struct ShowData {
    /// The household shown to this user (masked where they may not see personal data).
    pub view: HouseholdView,
    /// The household rule sets in force applied to it.
    pub checklists: Vec<Checklist>,
    /// Stored decisions about it: run, decision, rule-set name.
    pub stored: Vec<(RunRow, Outcome, Option<String>)>,
    /// The code lists (for labels).
    pub codes: CodeCatalog,
    /// The rule sets (for the wording of stored decisions).
    pub rules: std::sync::Arc<RuleBook>,
    /// Today (the edit form's default effective date).
    pub today: NaiveDate,
    /// Whether the user may edit.
    pub can_write: bool,
}

struct HistoryRow {
    date: String,
    kind: String,
    actor: String,
    source: String,
    recorded: String,
    reason: String,
    details: Vec<String>,
    future: bool,
}

/// The household page.
#[derive(Template)]
#[template(path = "households/show.html")]
pub struct HouseholdPage {
    l: Layout,
    id: i64,
    household_no: String,
    head_name: String,
    status: String,
    monitoring: String,
    crumbs: Vec<(String, String)>,
    as_of: String,
    exists: bool,
    attributes: Vec<(String, String)>,
    masked: bool,
    members: Vec<Vec<String>>,
    history: Vec<HistoryRow>,
    checklists: Vec<xiuhua_app::rules::Checklist>,
    /// Stored decisions: run id, rule-set name, version, as-of date, decision.
    stored: Vec<(i64, String, i64, String, String)>,
    /// Writing roles get the edit form (current state only, not "as of").
    can_edit: bool,
    edit: EditForm,
    /// The member and status change forms.
    changes: ChangeForms,
    /// Their inputs' values (version, today as the effective date).
    kept: Kept,
}

/// A JSON value shown to a person, with code labels where the field has a code list.
pub(crate) fn show_value(t: &T, codes: &CodeCatalog, field: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => t.s(if *b { "yes" } else { "no" }).into(),
        Value::String(s) => match field {
            "status" => RegistryStatus::parse(s)
                .map(|x| t.status(x).to_string())
                .unwrap_or_else(|| s.clone()),
            "monitoring" => MonitoringStatus::parse(s)
                .map(|x| t.monitoring(x).to_string())
                .unwrap_or_else(|| s.clone()),
            _ => field_list(field)
                .map(|l| t.code(codes, l, s))
                .unwrap_or_else(|| s.clone()),
        },
        Value::Array(a) if a.is_empty() => "—".into(),
        Value::Array(a) => a
            .iter()
            .map(|x| show_value(t, codes, field, x))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Object(o) if field == "income" => {
            let fen = |k: &str| o.get(k).and_then(Value::as_i64).unwrap_or(0);
            let net = fen("wage") + fen("business") + fen("property") + fen("transfer")
                - fen("business_cost");
            let year = o.get("year").map(|y| y.to_string()).unwrap_or_default();
            if t.lang == crate::i18n::Lang::Zh {
                format!("{year} 年纯收入 {} 元", format_fen(Fen(net)))
            } else {
                format!("net income {year}: {} yuan", format_fen(Fen(net)))
            }
        }
        Value::Number(_) => {
            let ty = FieldCatalog::shipped().find(field).map(|d| d.ty);
            format_json_number(ty, v).unwrap_or_else(|| v.to_string())
        }
        other => other.to_string(),
    }
}

/// "field：old → new" lines of a patch (the old values from the fold before the event), each
/// prefixed with `who` (a member's name) if given.
fn patch_lines(
    t: &T,
    codes: &CodeCatalog,
    who: Option<&str>,
    patch: &FieldPatch,
    old: Option<&FieldPatch>,
) -> Vec<String> {
    patch
        .iter()
        .map(|(k, v)| {
            let new = show_value(t, codes, k, v);
            let line = match old.and_then(|o| o.get(k)) {
                Some(o) => format!(
                    "{}：{} → {new}",
                    field_label(t.lang, k),
                    show_value(t, codes, k, o)
                ),
                None => format!("{} → {new}", field_label(t.lang, k)),
            };
            match who {
                Some(w) => format!("{w}: {line}"),
                None => line,
            }
        })
        .collect()
}

/// " · reason" of a member change, or nothing.
fn member_reason(t: &T, codes: &CodeCatalog, reason_code: Option<&str>) -> String {
    reason_code
        .map(|r| format!(" · {}", t.code(codes, "member_change", r)))
        .unwrap_or_default()
}

fn describe_changes(
    t: &T,
    codes: &CodeCatalog,
    e: &Event,
    names: &HashMap<i64, String>,
    old: &[FieldPatch],
) -> Vec<String> {
    let name_of = |id: &i64| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut out = Vec::new();
    for (i, c) in e.changes.iter().enumerate() {
        let old = old.get(i);
        match c {
            Change::Create { members, .. } => {
                out.push(format!("{} {}", t.s("members"), members.len()))
            }
            Change::SetFields { patch } => out.extend(patch_lines(t, codes, None, patch, old)),
            Change::AddMember {
                member,
                reason_code,
            } => out.push(format!(
                "+ {} ({}){}",
                member.name,
                t.code(codes, "relation", &member.relation),
                member_reason(t, codes, reason_code.as_deref())
            )),
            Change::UpdateMember { member_id, patch } => {
                out.extend(patch_lines(t, codes, Some(&name_of(member_id)), patch, old))
            }
            Change::RemoveMember {
                member_id,
                reason_code,
            } => out.push(format!(
                "− {}{}",
                name_of(member_id),
                member_reason(t, codes, reason_code.as_deref())
            )),
            Change::SetFacts { facts } => out.extend(facts.iter().map(|(k, v)| {
                let before = old.and_then(|o| o.get(k)).filter(|o| !o.is_null());
                match before {
                    Some(b) => format!("{k}: {} → {}", fact_text(t, b), fact_text(t, v)),
                    None => format!("{k} → {}", fact_text(t, v)),
                }
            })),
        }
    }
    out
}

/// Names of every member that ever appeared in a history (to describe removals).
pub fn member_names(events: &[Event]) -> HashMap<i64, String> {
    let mut names = HashMap::new();
    for e in events {
        for c in &e.changes {
            match c {
                Change::Create { members, .. } => {
                    names.extend(members.iter().map(|m| (m.id, m.name.clone())))
                }
                Change::AddMember { member, .. } => {
                    names.insert(member.id, member.name.clone());
                }
                _ => {}
            }
        }
    }
    names
}

/// The page's attributes: (label, shown value) for each page field the household has, then
/// the per-capita income.
fn attributes(t: &T, codes: &CodeCatalog, v: &HouseholdView) -> Vec<(String, String)> {
    let f = &v.state.fields;
    let mut out = Vec::new();
    if let Value::Object(map) = serde_json::to_value(f).unwrap_or_default() {
        let extra = map.get("extra");
        for field in crate::i18n::page_fields() {
            if matches!(field, "household_no" | "village_code") {
                continue;
            }
            let Some(val) = map.get(field).or_else(|| extra.and_then(|e| e.get(field))) else {
                continue;
            };
            let group_name = (field == "group_code")
                .then(|| {
                    v.region_names
                        .iter()
                        .find(|(c, _)| Some(c) == f.group_code.as_ref())
                })
                .flatten()
                .map(|(_, n)| n.clone());
            let shown = group_name.unwrap_or_else(|| show_value(t, codes, field, val));
            out.push((field_label(t.lang, field), shown));
        }
    }
    if let Some(pc) = v.state.per_capita_income() {
        out.push((t.s("per_capita_income").into(), format_fen(pc)));
    }
    out
}

/// The label of an event's source in the page language.
fn source_label(t: &T, s: xiuhua_domain::event::SourceKind) -> &'static str {
    use xiuhua_domain::event::SourceKind as K;
    if t.lang == Lang::Zh {
        return s.label_zh();
    }
    match s {
        K::Manual => "entered by hand",
        K::Import => "file import",
        K::Department => "department data",
        K::Workflow => "workflow",
        K::Demo => "demo data",
        K::Survey => "household survey",
        K::Cli => "command line",
    }
}

/// A recorded fact's value in words (是/否, numbers as written, 未知 for a forgotten one).
fn fact_text(t: &T, v: &Value) -> String {
    let zh = t.lang == Lang::Zh;
    match v {
        Value::Bool(true) => if zh { "是" } else { "yes" }.into(),
        Value::Bool(false) => if zh { "否" } else { "no" }.into(),
        Value::Null => if zh { "未知" } else { "unknown" }.into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A member's row: name, relation, identity number, sex, birth date and coded attributes.
fn member_row(t: &T, codes: &CodeCatalog, m: &Member, full: bool) -> Vec<String> {
    let code = |list: &str, c: &Option<String>| {
        c.as_deref()
            .map(|c| t.code(codes, list, c))
            .unwrap_or_default()
    };
    vec![
        m.name.clone(),
        t.code(codes, "relation", &m.relation),
        mask_id(&m.id_number, full),
        t.s(if m.sex == "1" { "male" } else { "female" }).into(),
        xiuhua_domain::household::birth_shown(m.birth_date, full),
        code("ethnicity", &m.ethnicity),
        code("education", &m.education),
        code("schooling", &m.schooling),
        m.health
            .iter()
            .map(|c| t.code(codes, "health", c))
            .collect::<Vec<_>>()
            .join("、"),
        code("labour", &m.labour),
        code("work_status", &m.work_status),
    ]
}

fn history_row(
    t: &T,
    codes: &CodeCatalog,
    e: &Event,
    names: &HashMap<i64, String>,
    as_of: Option<NaiveDate>,
    old: &[FieldPatch],
) -> HistoryRow {
    HistoryRow {
        date: e.effective_date.to_string(),
        kind: if t.lang == Lang::Zh {
            e.kind.label_zh()
        } else {
            e.kind.label_en()
        }
        .into(),
        actor: e.actor.clone(),
        source: format!(
            "{}{}",
            source_label(t, e.source),
            e.source_ref
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        ),
        recorded: (e.recorded_at + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        reason: e.reason.clone(),
        details: describe_changes(t, codes, e, names, old),
        future: as_of.is_some_and(|d| e.effective_date > d),
    }
}

/// Stored decisions as shown: run id, rule-set name, version, as-of date, decision in words.
fn stored_rows(
    t: &T,
    rules: &RuleBook,
    stored: &[(RunRow, Outcome, Option<String>)],
) -> Vec<(i64, String, i64, String, String)> {
    stored
        .iter()
        .map(|(run, decision, name)| {
            let purpose = rules
                .get(&run.rule_set, Some(run.version))
                .map(|s| s.def.purpose.holds_zh());
            let shown = match (decision, purpose) {
                (Outcome::Pass, Some((yes, _))) => yes.to_string(),
                (Outcome::Fail, Some((_, no))) => no.to_string(),
                _ => t.s("unknowns").to_string(),
            };
            (
                run.id,
                name.clone().unwrap_or_else(|| run.rule_set.clone()),
                run.version,
                run.as_of.clone(),
                shown,
            )
        })
        .collect()
}

impl HouseholdPage {
    /// The page of household `id` (as of `as_of`) from the use cases' answers.
    pub fn new(l: Layout, id: i64, as_of: Option<NaiveDate>, d: ShowData) -> HouseholdPage {
        let t = l.t.clone();
        let (v, codes) = (&d.view, &d.codes);
        let f = &v.state.fields;
        let exists = !f.household_no.is_empty();
        let full = v.full_personal_data;
        let names = member_names(&v.events);
        // Old values from one fold of the history (in fold order, as the view holds it); a
        // history that cannot be folded shows new values only.
        let old = xiuhua_domain::history::old_values_by_event(&v.events)
            .unwrap_or_else(|_| vec![Vec::new(); v.events.len()]);
        HouseholdPage {
            id,
            household_no: if exists {
                f.household_no.clone()
            } else {
                id.to_string()
            },
            head_name: v.state.head().map(|h| h.name.clone()).unwrap_or_default(),
            status: if exists {
                t.status(f.status).into()
            } else {
                String::new()
            },
            monitoring: if f.monitoring == MonitoringStatus::None {
                String::new()
            } else {
                t.monitoring(f.monitoring).into()
            },
            crumbs: v
                .region_names
                .iter()
                .filter(|(c, _)| c.len() <= 12)
                .cloned()
                .collect(),
            as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
            exists,
            attributes: attributes(&t, codes, v),
            masked: !full,
            members: v
                .state
                .members
                .iter()
                .map(|m| member_row(&t, codes, m, full))
                .collect(),
            history: v
                .events
                .iter()
                .zip(&old)
                .rev()
                .map(|(e, o)| history_row(&t, codes, e, &names, as_of, o))
                .collect(),
            stored: stored_rows(&t, &d.rules, &d.stored),
            checklists: d.checklists,
            can_edit: exists && as_of.is_none() && d.can_write,
            edit: edit_form(t.lang, codes, v.version, f, &d.today.to_string()),
            changes: ChangeForms::new(
                t.lang,
                codes,
                v,
                &crate::pages::household_changes::status_actions(f.status, f.monitoring),
                |a| t.s(&format!("action_{a}")),
            ),
            kept: Kept::fresh(v.version, &d.today.to_string()),
            l,
        }
    }
}
