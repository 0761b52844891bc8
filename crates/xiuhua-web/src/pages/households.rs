//! Household pages: the searchable list, one household (now or as of a date) and the save of
//! its edit form.

use axum::extract::{Path, Query, State};
use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use xiuhua_app::household_views::{HouseholdPageData, household_list, household_page};
use xiuhua_app::registry::{self, ChangeMeta, SearchParams};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::message::{Message, msg};
use xiuhua_domain::{
    CodeCatalog, FieldDef, FieldType, HouseholdFields, MonitoringStatus, RegistryStatus,
};

use super::{AsOfQuery, parse_date};
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::i18n::field_label;
use crate::views::household::{HouseholdPage, ShowData};
use crate::views::household_edit::{ConflictPage, EditPage, Submitted, edit_form, editable_fields};
use crate::views::households::{ListData, ListFilters, ListPage, PER_PAGE};
use crate::views::{Layout, render};

/// Query of the household list.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    region: Option<String>,
    q: Option<String>,
    status: Option<String>,
    monitoring: Option<String>,
    page: Option<i64>,
    /// `1`: show full identity numbers (users who may see them; logged).
    full_ids: Option<String>,
}

/// GET /households
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let page = q.page.unwrap_or(1).max(1);
    let text = super::search_text(q.q.clone(), false, lang)?;
    let params = SearchParams {
        region: q.region.clone(),
        text,
        status: q.status.as_deref().and_then(RegistryStatus::parse),
        monitoring: q.monitoring.as_deref().and_then(MonitoringStatus::parse),
        page,
        per_page: PER_PAGE,
    };
    let client = crate::auth::client_address(&headers);
    let may_see = auth.user.role.sees_personal_data();
    let full_ids = may_see && q.full_ids.as_deref() == Some("1");
    let found = household_list(&state.services, &auth.user, &params, &client, full_ids)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let data = ListData {
        list: found.list,
        total: found.total,
        total_capped: found.total_capped,
        page,
        names: found.names,
        matched_regions: found.matched_regions,
        masked: !full_ids,
        may_see_full: may_see,
    };
    let filters = ListFilters {
        region: q.region,
        q: q.q,
        status: q.status,
        monitoring: q.monitoring,
        full_ids: full_ids.then(|| "1".to_string()),
    };
    let l = Layout::new(&auth, auth.t.s("households"));
    render(&ListPage::new(l, &filters, data), lang)
}

/// GET /households/{id}
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(q.as_of.as_deref())?;
    let client = crate::auth::client_address(&headers);
    let s = &state.services;
    let HouseholdPageData {
        view,
        checklists,
        stored,
    } = household_page(s, &auth.user, id, as_of, &client)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(&auth, view.state.fields.household_no.clone());
    let data = ShowData {
        view,
        checklists,
        stored,
        codes: s.codes(),
        rules: s.rules(),
        today: s.clock.today(),
        can_write: auth.user.role.can_write(),
    };
    render(&HouseholdPage::new(l, id, as_of, data), lang)
}

/// The submitted edit form as (name, value) pairs.
pub(super) struct EditSubmission(pub(super) Vec<(String, String)>);

/// What the form asks to change: the patch (JSON keys of the record), what was typed in each
/// changed field (catalogue names), and the fields whose value cannot be read, with the reason.
struct Parsed {
    patch: FieldPatch,
    typed: BTreeMap<String, String>,
    errors: BTreeMap<String, Message>,
}

impl EditSubmission {
    /// A field's trimmed value ("" when missing).
    pub(super) fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// Whether the form has an entry `k`.
    fn has(&self, k: &str) -> bool {
        self.0.iter().any(|(n, _)| n == k)
    }

    /// A field as submitted: a set's checked codes joined with commas; an unticked checkbox
    /// is `false` when the form had it (its `orig_` entry).
    pub(super) fn submitted(&self, def: &FieldDef) -> String {
        match def.ty {
            FieldType::Codes => self
                .0
                .iter()
                .filter(|(n, v)| *n == def.name && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_string())
                .collect::<Vec<_>>()
                .join(","),
            FieldType::Bool if !self.has(&def.name) => {
                let orig = self.get(&format!("orig_{}", def.name));
                if orig == "true" { "false".into() } else { orig }
            }
            _ => self.get(&def.name),
        }
    }

    /// The changed fields: those whose value differs from the `orig_` value the form was
    /// filled with, each read as its catalogue type says (with the import's messages). The
    /// income figures are one part of the record: a change of any of them sets all of them.
    fn parse(&self, codes: &CodeCatalog) -> Parsed {
        let mut p = Parsed {
            patch: FieldPatch::new(),
            typed: BTreeMap::new(),
            errors: BTreeMap::new(),
        };
        let mut income = serde_json::Map::new();
        let mut income_changed = false;
        for def in editable_fields() {
            let new = self.submitted(def);
            let orig = self.get(&format!("orig_{}", def.name));
            let changed = new != orig;
            let key = HouseholdFields::json_key(&def.name).unwrap_or(&def.name);
            if let Some(part) = key.strip_prefix("income.") {
                if changed {
                    income_changed = true;
                    p.typed.insert(def.name.clone(), new.clone());
                }
                let v = match form_json(def, &new, codes) {
                    Ok(v) => v,
                    Err(m) => {
                        p.errors.insert(def.name.clone(), m);
                        continue;
                    }
                };
                // Amounts of an empty income are 0 分, as in the record.
                let v = if v.is_null() && part != "year" {
                    serde_json::json!(0)
                } else {
                    v
                };
                income.insert(part.to_string(), v);
                continue;
            }
            if !changed {
                continue;
            }
            p.typed.insert(def.name.clone(), new.clone());
            match form_json(def, &new, codes) {
                Ok(v) => {
                    p.patch.insert(key.to_string(), v);
                }
                Err(m) => {
                    p.errors.insert(def.name.clone(), m);
                }
            }
        }
        if income_changed {
            p.patch.insert("income".into(), Value::Object(income));
        }
        p
    }
}

/// A typed form value as the record's JSON, read by the field's catalogue type with the
/// import's messages; an empty value clears the field.
pub(super) fn form_json(def: &FieldDef, t: &str, codes: &CodeCatalog) -> Result<Value, Message> {
    let bad = |key: &'static str| msg(key).arg("value", t);
    let list = def.code_list.as_deref().unwrap_or("");
    let in_list = |c: &str| match list {
        "@status" => RegistryStatus::parse(c).is_some(),
        "@monitoring" => MonitoringStatus::parse(c).is_some(),
        _ => codes.contains(list, c),
    };
    if t.is_empty() {
        return Ok(match def.ty {
            FieldType::Codes => Value::Array(Vec::new()),
            _ => Value::Null,
        });
    }
    Ok(match def.ty {
        FieldType::Text | FieldType::Region | FieldType::IdNumber => Value::String(t.into()),
        FieldType::Code if in_list(t) => Value::String(t.into()),
        FieldType::Code => {
            return Err(msg("import_not_in_list").arg("value", t).arg("list", list));
        }
        FieldType::Codes => {
            let mut out = Vec::new();
            for c in t.split(',') {
                if !in_list(c) {
                    return Err(msg("import_not_in_list").arg("value", c).arg("list", list));
                }
                out.push(Value::String(c.into()));
            }
            Value::Array(out)
        }
        FieldType::Bool => match t {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(msg("import_not_yes_no")),
        },
        FieldType::Year => match t.parse::<i32>() {
            Ok(y) if (1900..=2100).contains(&y) => serde_json::json!(y),
            _ => return Err(bad("import_not_a_year")),
        },
        FieldType::Int => match t.parse::<i64>() {
            Ok(n) => serde_json::json!(n),
            Err(_) => return Err(bad("import_not_a_whole_number")),
        },
        FieldType::Decimal => match t.parse::<f64>() {
            Ok(x) if x.is_finite() => serde_json::json!(x),
            _ => return Err(bad("import_not_a_number")),
        },
        FieldType::Money => match t.parse::<f64>() {
            Ok(x) if x.is_finite() && x.abs() < 1e13 => {
                serde_json::json!((x * 100.0).round() as i64)
            }
            _ => return Err(bad("import_not_an_amount")),
        },
        FieldType::Date => match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => Value::String(d.to_string()),
            Err(_) => return Err(bad("import_not_a_date")),
        },
    })
}

/// The edit page again, with what was typed, the refusals beside their fields (or above the
/// form), and the correction offered when `closed` (the save fell in a closed year).
#[expect(clippy::too_many_arguments, reason = "the parts of a refused save")]
async fn refused_page(
    state: &AppState,
    auth: &Auth,
    id: i64,
    form: &EditSubmission,
    typed: &BTreeMap<String, String>,
    field_errors: BTreeMap<String, String>,
    messages: Vec<String>,
    closed: bool,
    status: StatusCode,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let s = &state.services;
    let view = registry::household(s, &auth.user, id, None)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let version: i64 = form.get("version").parse().unwrap_or(view.version);
    let mut edit = edit_form(
        lang,
        &s.codes(),
        version,
        &view.state.fields,
        &form.get("effective_date"),
    )
    .with_typed(typed, &field_errors);
    edit.reason = form.get("reason");
    edit.offer_correction = closed && auth.user.role.may_correct_closed_year();
    let no = view.state.fields.household_no.clone();
    let l = Layout::new(auth, format!("{no} · {}", auth.t.s("edit_household")));
    let mut res = render(&EditPage::new(l, id, no, messages, edit), lang)?.into_response();
    *res.status_mut() = status;
    Ok(res)
}

/// POST /households/{id}/edit: saves the changed fields against the version the editor saw; a
/// newer version answers 409 with both versions side by side. A value that cannot be read, or
/// that validation refuses, shows the form again with the reason beside the field and what was
/// typed kept (422); a change effective in a closed year shows the refusal and offers the
/// correction (更正) with its required reason (409).
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = EditSubmission(form);
    let lang = auth.t.lang;
    auth.user
        .require_write()
        .map_err(|e| WebError::page(e, lang))?;
    let bad = |m: &str| WebError::BadRequest(m.into());
    let version: i64 = form.get("version").parse().map_err(|_| bad("version"))?;
    let effective =
        parse_date(Some(&form.get("effective_date")))?.ok_or_else(|| bad("effective_date"))?;
    let reason = form.get("reason");
    let codes = state.services.codes();
    let Parsed {
        patch,
        typed,
        errors,
    } = form.parse(&codes);
    if !errors.is_empty() {
        let shown = errors
            .into_iter()
            .map(|(k, m)| (k, m.render(lang.messages())))
            .collect();
        let top = vec![auth.t.s("edit_fields_refused").to_string()];
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return refused_page(&state, &auth, id, &form, &typed, shown, top, false, status).await;
    }
    if patch.is_empty() {
        return Ok(Redirect::to(&format!("/households/{id}")).into_response());
    }
    let meta = ChangeMeta {
        correction: form.get("correction") == "1",
        ..ChangeMeta::manual(effective, reason.clone())
    };
    let saved =
        registry::edit_household(&state.services, &auth.user, id, version, patch, &meta).await;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(xiuhua_app::Error::Conflict {
            code: "stale_version",
            message,
            details: Some(d),
            ..
        }) => {
            let mine = Submitted {
                typed,
                version,
                effective_date: effective.to_string(),
                reason,
            };
            let message = message.render(lang.messages());
            let l = Layout::new(&auth, auth.t.s("edit_conflict"));
            let mut res =
                render(&ConflictPage::new(l, &codes, id, mine, &d, message), lang)?.into_response();
            *res.status_mut() = StatusCode::CONFLICT;
            Ok(res)
        }
        Err(xiuhua_app::Error::Conflict {
            code: "closed_year",
            message,
            ..
        }) => {
            let m = vec![message.render(lang.messages())];
            let status = StatusCode::CONFLICT;
            refused_page(
                &state,
                &auth,
                id,
                &form,
                &typed,
                BTreeMap::new(),
                m,
                true,
                status,
            )
            .await
        }
        Err(xiuhua_app::Error::Invalid(errs)) => {
            let names: Vec<&str> = editable_fields().map(|d| d.name.as_str()).collect();
            let (mut beside, mut top) = (BTreeMap::new(), Vec::new());
            for e in &errs {
                let text = e.message.render(lang.messages());
                if names.contains(&e.field.as_str()) {
                    beside.insert(e.field.clone(), text);
                } else {
                    top.push(format!("{}：{}", field_label(lang, &e.field), text));
                }
            }
            if top.is_empty() {
                top.push(auth.t.s("edit_fields_refused").to_string());
            }
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            // A correction refused for its missing reason offers the correction again.
            let closed = form.get("correction") == "1";
            refused_page(
                &state, &auth, id, &form, &typed, beside, top, closed, status,
            )
            .await
        }
        Err(e) => Err(WebError::page(e, lang)),
    }
}
