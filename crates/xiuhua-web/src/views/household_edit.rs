//! The household edit form (on the household page) and the page shown when a save met a newer
//! version: both versions side by side, every change made in between (who, when, why), and the
//! form filled in again against the current version. Nothing is overwritten silently.

use askama::Template;
use serde_json::Value;
use xiuhua_domain::household::FieldPatch;

use super::Layout;
use crate::i18n::{Lang, field_label};

/// Household fields editable on the page: (name, numeric).
pub const EDITABLE: &[(&str, bool)] = &[
    ("phone", false),
    ("cause_note", false),
    ("housing_area_m2", true),
    ("farmland_mu", true),
    ("forest_mu", true),
];

/// One input of the edit form.
pub struct EditField {
    /// Field name.
    pub name: &'static str,
    /// Label in the page language.
    pub label: String,
    /// Value in the input.
    pub value: String,
    /// The value the editor started from (sent back to tell what they changed).
    pub orig: String,
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
}

/// A field value as the form shows it.
pub fn form_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The form for the household's current fields (as a JSON object).
pub fn edit_form(
    lang: Lang,
    version: i64,
    fields: &serde_json::Map<String, Value>,
    today: &str,
) -> EditForm {
    EditForm {
        version,
        fields: EDITABLE
            .iter()
            .map(|(name, _)| {
                let v = form_value(fields.get(*name));
                EditField {
                    name,
                    label: field_label(lang, name),
                    value: v.clone(),
                    orig: v,
                }
            })
            .collect(),
        effective_date: today.to_string(),
        reason: String::new(),
    }
}

/// What the editor submitted that met a newer version.
pub struct Submitted {
    /// The fields they changed.
    pub patch: FieldPatch,
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
    pub fn new(l: Layout, id: i64, mine: Submitted, details: &Value, message: String) -> Self {
        let lang = l.t.lang;
        let current = details["current"]["fields"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let current_version = details["current_version"].as_i64().unwrap_or(mine.version);
        let rows = mine
            .patch
            .iter()
            .map(|(k, v)| {
                (
                    field_label(lang, k),
                    form_value(Some(v)),
                    form_value(current.get(k)),
                )
            })
            .collect();
        let mut edit = edit_form(lang, current_version, &current, &mine.effective_date);
        for f in &mut edit.fields {
            if let Some(v) = mine.patch.get(f.name) {
                f.value = form_value(Some(v));
            }
        }
        edit.reason = mine.reason;
        ConflictPage {
            id,
            household_no: current
                .get("household_no")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
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
