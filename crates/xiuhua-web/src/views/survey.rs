//! The survey form (入户核查 / 信息采集表) of one household: the facts the rule sets in force
//! declare, grouped, with the values recorded; the registry fields the rules also read
//! (read-only); the checklists, which the page's script refreshes as the form is filled.

use std::collections::BTreeMap;

use askama::Template;
use xiuhua_app::rules::Checklist;
use xiuhua_app::survey::SurveyForm;
use xiuhua_domain::CodeCatalog;
use xiuhua_domain::display::format_fen;

use super::Layout;
use crate::i18n::T;

/// One fact's control.
pub struct FactRow {
    /// Input name (the control is `fact.{name}`).
    pub name: String,
    /// Label.
    pub label: String,
    /// `bool`, `int`, `double` or `string`.
    pub ty: &'static str,
    /// A money amount (元).
    pub money: bool,
    /// Value shown (`yes`/`no`/"" for yes/no facts).
    pub value: String,
    /// Why the value was refused (empty if it was not).
    pub error: String,
}

/// One 信息采集表 group.
pub struct GroupRow {
    /// Group name.
    pub name: String,
    /// Its facts.
    pub facts: Vec<FactRow>,
}

/// The survey page.
#[derive(Template)]
#[template(path = "households/survey.html")]
pub struct SurveyPage {
    l: Layout,
    id: i64,
    version: i64,
    household_no: String,
    head_name: String,
    crumbs: Vec<(String, String)>,
    groups: Vec<GroupRow>,
    registry: Vec<(String, String)>,
    can_write: bool,
    messages: Vec<String>,
    effective_date: String,
    reason: String,
    checklists: Vec<Checklist>,
    history: Vec<(String, String, String, String, usize)>,
}

/// The checklists alone (the live preview's answer).
#[derive(Template)]
#[template(path = "partials/checklists.html")]
pub struct ChecklistsFragment {
    l: Layout,
    checklists: Vec<Checklist>,
}

impl ChecklistsFragment {
    /// The fragment of `checklists`.
    pub fn new(l: Layout, checklists: Vec<Checklist>) -> ChecklistsFragment {
        ChecklistsFragment { l, checklists }
    }
}

/// What the form shows again after a refusal: messages on top, reasons by fact name, the
/// effective date and reason typed.
#[derive(Default)]
pub struct Kept {
    /// Messages above the form.
    pub messages: Vec<String>,
    /// Reason by fact name.
    pub errors: BTreeMap<String, String>,
    /// Effective date typed (default today).
    pub effective_date: String,
    /// Reason typed.
    pub reason: String,
}

/// The registry fields the exit and monitoring rules also read, as shown: 住房安全等级, 饮水,
/// 人均纯收入, 医保.
fn registry_fields(t: &T, codes: &CodeCatalog, f: &SurveyForm) -> Vec<(String, String)> {
    let st = &f.view.state;
    let yes_no = |b: Option<bool>| match b {
        Some(true) => t.s("yes").to_string(),
        Some(false) => t.s("no").to_string(),
        None => t.s("survey_unknown").to_string(),
    };
    let fields = &st.fields;
    let insured = st
        .members
        .iter()
        .filter(|m| m.has_medical_insurance == Some(true))
        .count();
    vec![
        (
            crate::i18n::field_label(t.lang, "housing_safety"),
            fields
                .housing_safety
                .as_deref()
                .map(|c| t.code(codes, "housing_safety", c))
                .unwrap_or_else(|| t.s("survey_unknown").to_string()),
        ),
        (
            crate::i18n::field_label(t.lang, "water_safe"),
            yes_no(fields.water_safe),
        ),
        (
            crate::i18n::field_label(t.lang, "water_difficult"),
            yes_no(fields.water_difficult),
        ),
        (
            t.s("per_capita_income").to_string(),
            st.per_capita_income()
                .map(format_fen)
                .unwrap_or_else(|| t.s("survey_unknown").to_string()),
        ),
        (
            t.s("medical_insured").to_string(),
            format!("{insured} / {}", st.members.len()),
        ),
    ]
}

impl SurveyPage {
    /// The page of a survey form, with what a refusal keeps.
    pub fn new(l: Layout, codes: &CodeCatalog, f: SurveyForm, kept: Kept) -> SurveyPage {
        let t = l.t.clone();
        let registry = registry_fields(&t, codes, &f);
        let v = &f.view;
        SurveyPage {
            id: v.id,
            version: v.version,
            household_no: v.state.fields.household_no.clone(),
            head_name: v.state.head().map(|h| h.name.clone()).unwrap_or_default(),
            crumbs: v
                .region_names
                .iter()
                .filter(|(c, _)| c.len() <= 12)
                .cloned()
                .collect(),
            groups: f
                .groups
                .into_iter()
                .map(|g| GroupRow {
                    name: g.name,
                    facts: g
                        .facts
                        .into_iter()
                        .map(|x| FactRow {
                            error: kept.errors.get(&x.decl.name).cloned().unwrap_or_default(),
                            name: x.decl.name,
                            label: x.decl.label,
                            ty: x.decl.ty,
                            money: x.decl.money,
                            value: x.value,
                        })
                        .collect(),
                })
                .collect(),
            registry,
            can_write: f.can_write,
            messages: kept.messages,
            effective_date: kept.effective_date,
            reason: kept.reason,
            checklists: f.checklists,
            history: f
                .history
                .into_iter()
                .map(|(d, a, s, r, n)| (d.to_string(), a, s.to_string(), r, n))
                .collect(),
            l,
        }
    }
}
