//! Household pages: the searchable list, one household (now or as of a date) and the save of
//! its edit form.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use xiuhua_app::household_views::{HouseholdPageData, household_list, household_page};
use xiuhua_app::registry::{self, ChangeMeta, SearchParams};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::message::msg;
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use super::{AsOfQuery, parse_date};
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::i18n::{Lang, field_label};
use crate::views::household::{HouseholdPage, ShowData};
use crate::views::household_edit::{ConflictPage, EDITABLE, Submitted};
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
struct EditSubmission(Vec<(String, String)>);

impl EditSubmission {
    /// A field's trimmed value ("" when missing).
    fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The changed fields: those whose value differs from the `orig_` value the form was
    /// filled with. A numeric field must hold a number ≥ 0.
    fn patch(&self, id: i64, lang: Lang) -> Result<FieldPatch, WebError> {
        let mut patch = FieldPatch::new();
        for (name, numeric) in EDITABLE {
            let (new, orig) = (self.get(name), self.get(&format!("orig_{name}")));
            if new == orig {
                continue;
            }
            let v = if new.is_empty() {
                Value::Null
            } else if *numeric {
                match new.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => serde_json::json!(x),
                    _ => return Err(not_a_number(id, name, &new, lang)),
                }
            } else {
                Value::String(new)
            };
            patch.insert((*name).to_string(), v);
        }
        Ok(patch)
    }
}

fn not_a_number(id: i64, name: &str, value: &str, lang: Lang) -> WebError {
    WebError::page(
        xiuhua_app::Error::invalid(
            &format!("户 {id}"),
            name,
            "not_a_number",
            msg("not_a_number")
                .arg("name", field_label(lang, name))
                .arg("value", value)
                .arg("name2", name),
        ),
        lang,
    )
}

/// POST /households/{id}/edit: saves the changed fields against the version the editor saw; a
/// newer version answers 409 with both versions side by side.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = EditSubmission(form);
    let lang = auth.t.lang;
    let bad = |m: &str| WebError::BadRequest(m.into());
    let version: i64 = form.get("version").parse().map_err(|_| bad("version"))?;
    let effective =
        parse_date(Some(&form.get("effective_date")))?.ok_or_else(|| bad("effective_date"))?;
    let reason = form.get("reason");
    let patch = form.patch(id, lang)?;
    if patch.is_empty() {
        return Ok(Redirect::to(&format!("/households/{id}")).into_response());
    }
    let meta = ChangeMeta::manual(effective, reason.clone());
    let saved = registry::edit_household(
        &state.services,
        &auth.user,
        id,
        version,
        patch.clone(),
        &meta,
    )
    .await;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(xiuhua_app::Error::Conflict {
            code: "stale_version",
            message,
            details: Some(d),
            ..
        }) => {
            let mine = Submitted {
                patch,
                version,
                effective_date: effective.to_string(),
                reason,
            };
            let message = message.render(lang.messages());
            let l = Layout::new(&auth, auth.t.s("edit_conflict"));
            let mut res =
                render(&ConflictPage::new(l, id, mine, &d, message), lang)?.into_response();
            *res.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => Err(WebError::page(e, lang)),
    }
}
