//! The household edit form (on the household page, and as a page of its own when a save was
//! refused), built from the field catalogue: every stored household field, with an input fit
//! for its type (code lists as selects with their labels, sets as checkboxes, dates, numbers,
//! yes/no as a checkbox). Also the page shown when a save met a newer version: both versions
//! side by side, every change made in between (who, when, why), and the form filled in again
//! against the current version. Nothing is overwritten silently.

use std::collections::BTreeMap;

use askama::Template;
use serde_json::Value;
use xiuhua_domain::display::{format_decimal, format_fen};
use xiuhua_domain::{
    CodeCatalog, FieldCatalog, FieldDef, FieldLevel, FieldRef, FieldType, HouseholdFields,
    MonitoringStatus, Record, RegistryStatus,
};

use super::Layout;
use crate::i18n::{Lang, field_label};

/// The household fields the form edits: every stored household field of the catalogue.
pub fn editable_fields() -> impl Iterator<Item = &'static FieldDef> {
    FieldCatalog::shipped().stored(FieldLevel::Household)
}

/// One input of the edit form.
pub struct EditField {
    /// Field name (the catalogue's).
    pub name: String,
    /// Label in the page language.
    pub label: String,
    /// The input: `text`, `number`, `date`, `select`, `multi` (checkboxes) or `check`.
    pub kind: &'static str,
    /// Step of a number input (`1` or `0.01`).
    pub step: &'static str,
    /// Choices of a select or a set: (code, label).
    pub options: Vec<(String, String)>,
    /// Value in the input (a set: its codes joined with commas).
    pub value: String,
    /// The value the editor started from (sent back to tell what they changed).
    pub orig: String,
    /// Why the value was refused, in the page language (empty if it was not).
    pub error: String,
}

impl EditField {
    /// Whether a set's choice `code` is in the value.
    pub fn has(&self, code: &str) -> bool {
        self.value.split(',').any(|c| c == code)
    }
}

/// The edit form's content.
pub struct EditForm {
    /// The version being edited.
    pub version: i64,
    /// Inputs.
    pub fields: Vec<EditField>,
    /// Default effective date (ISO).
    pub effective_date: String,
    /// Reason typed so far.
    pub reason: String,
    /// Offer the correction (更正) of a closed year: the save was refused for it and the user
    /// may correct.
    pub offer_correction: bool,
}

/// A field's value as the form shows and sends it.
pub fn form_text(v: Option<FieldRef<'_>>) -> String {
    match v {
        None => String::new(),
        Some(FieldRef::Text(s)) => s.to_string(),
        Some(FieldRef::Bool(b)) => b.to_string(),
        Some(FieldRef::Int(n)) => n.to_string(),
        Some(FieldRef::Decimal(x)) => format_decimal(x),
        Some(FieldRef::Codes(c)) => c.join(","),
        Some(FieldRef::Date(d)) => d.to_string(),
        Some(FieldRef::Money(m)) => format_fen(m),
    }
}

/// A JSON value as text (the conflict page's list of changes in between).
pub fn form_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The choices of a code field: its code list, or the built-in enumerations.
fn options(lang: Lang, codes: &CodeCatalog, def: &FieldDef) -> Vec<(String, String)> {
    let en = lang == Lang::En;
    match def.code_list.as_deref() {
        Some("@status") => RegistryStatus::ALL
            .iter()
            .map(|s| {
                let l = if en { s.label_en() } else { s.label_zh() };
                (s.as_str().to_string(), l.to_string())
            })
            .collect(),
        Some("@monitoring") => MonitoringStatus::ALL
            .iter()
            .map(|s| {
                let l = if en { s.label_en() } else { s.label_zh() };
                (s.as_str().to_string(), l.to_string())
            })
            .collect(),
        Some("@sex") => vec![
            ("1".into(), if en { "male" } else { "男" }.into()),
            ("2".into(), if en { "female" } else { "女" }.into()),
        ],
        Some(list) => codes
            .list(list)
            .iter()
            .map(|i| {
                let l = if en { &i.label_en } else { &i.label_zh };
                (i.code.clone(), format!("{} {l}", i.code))
            })
            .collect(),
        None => Vec::new(),
    }
}

/// The input of one catalogue field, filled with `value`.
pub fn edit_field(lang: Lang, codes: &CodeCatalog, def: &FieldDef, value: String) -> EditField {
    let (kind, step) = match def.ty {
        FieldType::Code => ("select", ""),
        FieldType::Codes => ("multi", ""),
        FieldType::Bool => ("check", ""),
        FieldType::Year | FieldType::Int => ("number", "1"),
        FieldType::Decimal | FieldType::Money => ("number", "0.01"),
        FieldType::Date => ("date", ""),
        FieldType::Text | FieldType::Region | FieldType::IdNumber => ("text", ""),
    };
    EditField {
        name: def.name.clone(),
        label: field_label(lang, &def.name),
        kind,
        step,
        options: options(lang, codes, def),
        orig: value.clone(),
        value,
        error: String::new(),
    }
}

/// The form for a household's current fields.
pub fn edit_form(
    lang: Lang,
    codes: &CodeCatalog,
    version: i64,
    fields: &HouseholdFields,
    today: &str,
) -> EditForm {
    EditForm {
        version,
        fields: editable_fields()
            .map(|def| edit_field(lang, codes, def, form_text(fields.get(def))))
            .collect(),
        effective_date: today.to_string(),
        reason: String::new(),
        offer_correction: false,
    }
}

impl EditForm {
    /// The same form with what the editor typed: `typed` (field → value) over the stored
    /// values, each refused field's reason beside it.
    pub fn with_typed(
        mut self,
        typed: &BTreeMap<String, String>,
        errors: &BTreeMap<String, String>,
    ) -> EditForm {
        for f in &mut self.fields {
            if let Some(v) = typed.get(&f.name) {
                f.value = v.clone();
            }
            if let Some(e) = errors.get(&f.name) {
                f.error = e.clone();
            }
        }
        self
    }
}

/// The edit page: the form alone, shown again when a save was refused (with the reasons beside
/// the fields, or the closed-year refusal and the correction it offers).
#[derive(Template)]
#[template(path = "households/edit.html")]
pub struct EditPage {
    l: Layout,
    id: i64,
    household_no: String,
    /// Refusals that belong to no field of the form (or the closed-year message).
    messages: Vec<String>,
    edit: EditForm,
}

impl EditPage {
    /// The page of household `id`.
    pub fn new(
        l: Layout,
        id: i64,
        household_no: String,
        messages: Vec<String>,
        edit: EditForm,
    ) -> EditPage {
        EditPage {
            l,
            id,
            household_no,
            messages,
            edit,
        }
    }
}

/// What the editor submitted that met a newer version.
pub struct Submitted {
    /// The fields they changed: name → what they typed.
    pub typed: BTreeMap<String, String>,
    /// The version they edited.
    pub version: i64,
    /// Their effective date (ISO).
    pub effective_date: String,
    /// Their reason.
    pub reason: String,
}

/// The edit-conflict page.
#[derive(Template)]
#[template(path = "households/edit_conflict.html")]
pub struct ConflictPage {
    l: Layout,
    id: i64,
    household_no: String,
    message: String,
    /// Field label, your value, saved value.
    rows: Vec<(String, String, String)>,
    since: Vec<String>,
    edit: EditForm,
}

/// The changes since the editor's version, one line each (recorded, actor, reason, changes).
fn changes_since(lang: Lang, details: &Value) -> Vec<String> {
    details["changes_since_your_version"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    format!(
                        "{} · {} · {} · {}",
                        c["recorded_at"].as_str().unwrap_or(""),
                        c["actor"].as_str().unwrap_or(""),
                        c["reason"].as_str().unwrap_or(""),
                        describe(lang, &c["changes"])
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl ConflictPage {
    /// The page for household `id` from the `stale_version` conflict's `details` (the current
    /// household and the changes since) and its `message`.
    pub fn new(
        l: Layout,
        codes: &CodeCatalog,
        id: i64,
        mine: Submitted,
        details: &Value,
        message: String,
    ) -> Self {
        let lang = l.t.lang;
        let current: HouseholdFields =
            serde_json::from_value(details["current"]["fields"].clone()).unwrap_or_default();
        let current_version = details["current_version"].as_i64().unwrap_or(mine.version);
        let cat = FieldCatalog::shipped();
        let rows = mine
            .typed
            .iter()
            .map(|(k, v)| {
                let now = cat.find(k).map(|d| form_text(current.get(d)));
                (field_label(lang, k), v.clone(), now.unwrap_or_default())
            })
            .collect();
        let mut edit = edit_form(lang, codes, current_version, &current, &mine.effective_date)
            .with_typed(&mine.typed, &BTreeMap::new());
        edit.reason = mine.reason;
        ConflictPage {
            id,
            household_no: current.household_no.clone(),
            message,
            rows,
            since: changes_since(lang, details),
            edit,
            l,
        }
    }
}

/// A short description of changes (the event-log JSON) for the conflict page.
fn describe(lang: Lang, changes: &Value) -> String {
    let mut out = Vec::new();
    for c in changes.as_array().into_iter().flatten() {
        if let Some(patch) = c.get("patch").and_then(Value::as_object) {
            for (k, v) in patch {
                out.push(format!(
                    "{} → {}",
                    field_label(lang, k),
                    form_value(Some(v))
                ));
            }
        } else if let Some(op) = c.get("op").and_then(Value::as_str) {
            out.push(op.to_string());
        }
    }
    out.join("；")
}
