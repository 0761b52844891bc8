//! The household page's change forms besides the field edit: members (add, remove, move, make
//! head), the status actions valid from the current status, and the head-change page where
//! the clerk confirms each member's relation to the new head.

use std::collections::BTreeMap;

use askama::Template;
use xiuhua_app::registry::HouseholdView;
use xiuhua_domain::{CodeCatalog, FieldCatalog, Record};

use super::Layout;
use super::household_edit::{EditField, edit_field, form_text};
use crate::i18n::Lang;

/// 人员变更 codes offered when a member joins (嫁入, 新生儿, 其他转入); the others are reasons to
/// leave.
const JOIN_REASONS: &[&str] = &["05", "06", "07"];

/// What a change form shows in its inputs: the version it was filled at, the values (typed by
/// the clerk when a refused submission is shown again), the reasons beside refused inputs, and
/// whether the correction (更正) of a closed year is offered.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    /// The household version the form was filled at.
    pub version: i64,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    /// Offer the 更正 checkbox (the save fell in a closed year and the user may correct it).
    pub offer_correction: bool,
}

impl Kept {
    /// A fresh form at `version`, effective `today`, a moved member's relation 99 其他.
    pub fn fresh(version: i64, today: &str) -> Kept {
        let values = [("effective_date", today), ("relation", "99")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Kept {
            version,
            values,
            ..Kept::default()
        }
    }

    /// A refused submission shown again: `pairs` as typed (the first value of each name),
    /// `errors` (input name → reason) beside their inputs.
    pub fn typed(
        version: i64,
        pairs: &[(String, String)],
        errors: BTreeMap<String, String>,
        offer_correction: bool,
    ) -> Kept {
        let mut values = BTreeMap::new();
        for (k, v) in pairs {
            values
                .entry(k.clone())
                .or_insert_with(|| v.trim().to_string());
        }
        Kept {
            version,
            values,
            errors,
            offer_correction,
        }
    }

    /// The value of input `name` ("" when none).
    pub fn v(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The reason input `name` was refused ("" when it was not).
    pub fn err(&self, name: &str) -> &str {
        self.errors.get(name).map_or("", String::as_str)
    }

    /// The reasons beside inputs.
    pub fn errors(&self) -> &BTreeMap<String, String> {
        &self.errors
    }
}

/// One member's change forms: (id, name, relation label, is the head, the inputs of their
/// edit form).
pub type MemberForms = (i64, String, String, bool, Vec<EditField>);

/// The change forms of a household page (shown to writing roles on the current state).
pub struct ChangeForms {
    /// Inputs of a new member (the catalogue's member fields).
    pub member_fields: Vec<EditField>,
    /// Reasons a member joins: (code, label).
    pub join_reasons: Vec<(String, String)>,
    /// Reasons a member leaves.
    pub leave_reasons: Vec<(String, String)>,
    /// The relation code list.
    pub relations: Vec<(String, String)>,
    /// Members: (id, name, relation label, is the head, the inputs of their edit form).
    pub members: Vec<MemberForms>,
    /// Status actions valid now: (action, label).
    pub status_actions: Vec<(&'static str, &'static str)>,
    /// The 监测对象类型 and 脱贫批次 lists.
    pub monitor_types: Vec<(String, String)>,
    /// 脱贫批次.
    pub exit_batches: Vec<(String, String)>,
    /// 致贫原因 (the main cause asked when a household is identified).
    pub causes: Vec<(String, String)>,
    /// The household's main cause now (preselected).
    pub main_cause: String,
}

/// The choices of a code list: (code, "code label").
pub fn code_options(lang: Lang, codes: &CodeCatalog, list: &str) -> Vec<(String, String)> {
    codes
        .list(list)
        .iter()
        .map(|i| {
            let l = if lang == Lang::En {
                &i.label_en
            } else {
                &i.label_zh
            };
            (i.code.clone(), format!("{} {l}", i.code))
        })
        .collect()
}

impl ChangeForms {
    /// The forms for household `v`, with `actions` the status actions valid from its status.
    pub fn new(
        lang: Lang,
        codes: &CodeCatalog,
        v: &HouseholdView,
        actions: &[&'static str],
        action_label: impl Fn(&str) -> &'static str,
    ) -> ChangeForms {
        let reasons = code_options(lang, codes, "member_change");
        let (join, leave) = reasons
            .into_iter()
            .partition(|(c, _)| JOIN_REASONS.contains(&c.as_str()));
        let cat = FieldCatalog::shipped();
        ChangeForms {
            member_fields: crate::pages::household_changes::member_form_fields()
                .map(|d| edit_field(lang, codes, cat.get(d.id), String::new()))
                .collect(),
            join_reasons: join,
            leave_reasons: leave,
            relations: code_options(lang, codes, "relation"),
            members: v
                .state
                .members
                .iter()
                .map(|m| {
                    let rel = if lang == Lang::En {
                        codes.label_en("relation", &m.relation)
                    } else {
                        codes.label_zh("relation", &m.relation)
                    };
                    let inputs = crate::pages::household_changes::member_form_fields()
                        .map(|d| edit_field(lang, codes, d, form_text(m.get(d))))
                        .collect();
                    (m.id, m.name.clone(), rel.to_string(), m.is_head(), inputs)
                })
                .collect(),
            status_actions: actions.iter().map(|a| (*a, action_label(a))).collect(),
            monitor_types: code_options(lang, codes, "monitor_type"),
            exit_batches: code_options(lang, codes, "exit_batch"),
            causes: code_options(lang, codes, "poverty_cause"),
            main_cause: v.state.fields.main_cause.clone().unwrap_or_default(),
        }
    }
}

/// One member's row of the head-change page.
pub struct HeadRow {
    /// Member id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Relation to the old head (label).
    pub old: String,
    /// Proposed relation to the new head (code).
    pub proposed: String,
}

/// The head-change page: the new head and each member's proposed relation, editable.
#[derive(Template)]
#[template(path = "households/head.html")]
pub struct HeadPage {
    l: Layout,
    id: i64,
    household_no: String,
    new_head: String,
    rows: Vec<HeadRow>,
    relations: Vec<(String, String)>,
    kept: Kept,
    /// Why a submission was refused (empty on the first showing).
    messages: Vec<String>,
}

impl HeadPage {
    /// The page for household `v` with `new_head` (a member id) and the `proposed` relations,
    /// the inputs filled from `kept` and the refusal `messages` above the form.
    #[expect(clippy::too_many_arguments, reason = "the parts of the page")]
    pub fn new(
        l: Layout,
        codes: &CodeCatalog,
        id: i64,
        v: &HouseholdView,
        new_head: i64,
        proposed: &[(i64, String)],
        kept: Kept,
        messages: Vec<String>,
    ) -> HeadPage {
        let lang = l.t.lang;
        let rows = v
            .state
            .members
            .iter()
            .map(|m| HeadRow {
                id: m.id,
                name: m.name.clone(),
                old: codes.label_zh("relation", &m.relation).to_string(),
                proposed: proposed
                    .iter()
                    .find(|(i, _)| *i == m.id)
                    .map(|(_, r)| r.clone())
                    .unwrap_or_default(),
            })
            .collect();
        HeadPage {
            id,
            household_no: v.state.fields.household_no.clone(),
            new_head: v
                .state
                .members
                .iter()
                .find(|m| m.id == new_head)
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            rows,
            relations: code_options(lang, codes, "relation"),
            kept,
            messages,
            l,
        }
    }
}

/// A refused change form shown again on its own: the refusal above it, the reasons beside
/// the inputs, what was typed kept, and the 更正 offer when the date fell in a closed year.
#[derive(Template)]
#[template(path = "households/change.html")]
pub struct ChangePage {
    l: Layout,
    id: i64,
    household_no: String,
    heading: String,
    messages: Vec<String>,
    /// Which form: `add`, `edit`, `remove`, `move`, `status` (or empty: the message alone).
    form: &'static str,
    changes: ChangeForms,
    kept: Kept,
    /// The member the form is about (member forms).
    m: MemberForms,
    /// The status action (status form): (action, label).
    a: (&'static str, &'static str),
}

impl ChangePage {
    /// The page of `form` for household `id`; `m` and `a` as the form needs them.
    #[expect(clippy::too_many_arguments, reason = "the parts of the page")]
    pub fn new(
        l: Layout,
        id: i64,
        household_no: String,
        heading: String,
        messages: Vec<String>,
        form: &'static str,
        changes: ChangeForms,
        kept: Kept,
        m: Option<MemberForms>,
        a: Option<(&'static str, &'static str)>,
    ) -> ChangePage {
        ChangePage {
            l,
            id,
            household_no,
            heading,
            messages,
            form,
            changes,
            kept,
            m: m.unwrap_or_default(),
            a: a.unwrap_or(("", "")),
        }
    }
}
