//! The household edit form on the household page: a few attributes changed with the version
//! the editor saw. A save against an older version is refused (optimistic versioning) and the
//! page shows both versions side by side — what the editor submitted, what is saved now, and
//! every change made in between (who, when, why) — with the form filled in again against the
//! current version. Nothing is overwritten silently.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use xiuhua_app::registry::{self, ChangeMeta};
use xiuhua_domain::household::FieldPatch;

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::i18n::field_label;
use crate::pages::{Layout, parse_date, render};

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
    lang: crate::i18n::Lang,
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

#[derive(Template)]
#[template(path = "household_edit.html")]
struct ConflictPage {
    l: Layout,
    id: i64,
    household_no: String,
    message: String,
    /// Field label, your value, saved value.
    rows: Vec<(String, String, String)>,
    since: Vec<String>,
    edit: EditForm,
}

/// POST /households/{id}/edit
pub async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let lang = auth.t.lang;
    let bad = |m: String| WebError::BadRequest(m);
    let version: i64 = get("version").parse().map_err(|_| bad("version".into()))?;
    let effective =
        parse_date(Some(&get("effective_date")))?.ok_or_else(|| bad("effective_date".into()))?;
    let reason = get("reason");
    let mut patch = FieldPatch::new();
    for (name, numeric) in EDITABLE {
        let (new, orig) = (get(name), get(&format!("orig_{name}")));
        if new == orig {
            continue;
        }
        let v = if new.is_empty() {
            Value::Null
        } else if *numeric {
            match new.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => serde_json::json!(x),
                _ => {
                    return Err(WebError::page(
                        xiuhua_app::Error::invalid(
                            &format!("户 {id}"),
                            name,
                            "not_a_number",
                            format!("{}应为数字：{new}", field_label(lang, name)),
                            format!("{name} must be a number: {new:?}"),
                        ),
                        lang,
                    ));
                }
            }
        } else {
            Value::String(new)
        };
        patch.insert((*name).to_string(), v);
    }
    if patch.is_empty() {
        return Ok(Redirect::to(&format!("/households/{id}")).into_response());
    }
    let meta = ChangeMeta::manual(effective, reason.clone());
    match registry::edit_household(
        &state.services,
        &auth.user,
        id,
        version,
        patch.clone(),
        &meta,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(xiuhua_app::Error::Conflict {
            code: "stale_version",
            message_zh,
            message_en,
            details: Some(d),
        }) => {
            let current = d["current"]["fields"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let current_version = d["current_version"].as_i64().unwrap_or(version);
            let rows = patch
                .iter()
                .map(|(k, mine)| {
                    (
                        field_label(lang, k),
                        form_value(Some(mine)),
                        form_value(current.get(k)),
                    )
                })
                .collect();
            let since = d["changes_since_your_version"]
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
                .unwrap_or_default();
            let mut edit = edit_form(lang, current_version, &current, &effective.to_string());
            for f in &mut edit.fields {
                if let Some(mine) = patch.get(f.name) {
                    f.value = form_value(Some(mine));
                }
            }
            edit.reason = reason;
            let page = ConflictPage {
                l: Layout::new(&auth, auth.t.s("edit_conflict")),
                id,
                household_no: current
                    .get("household_no")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                message: if lang == crate::i18n::Lang::Zh {
                    message_zh
                } else {
                    message_en
                },
                rows,
                since,
                edit,
            };
            let mut res = render(&page, lang)?.into_response();
            *res.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => Err(WebError::page(e, lang)),
    }
}

/// A short description of changes (the event-log JSON) for the conflict page.
fn describe(lang: crate::i18n::Lang, changes: &Value) -> String {
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
