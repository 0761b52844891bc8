//! The survey pages (入户核查): the form of one household, its save (one survey event with the
//! facts that changed) and the live preview of the checklists while it is filled.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use xiuhua_app::registry::ChangeMeta;
use xiuhua_app::survey;
use xiuhua_domain::event::SourceKind;
use xiuhua_rules::Level;

use super::parse_date;
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::views::survey::{ChecklistsFragment, Kept, SurveyPage};
use crate::views::{Layout, render};

/// The submitted form as a map (the last value of a repeated name wins).
fn as_map(form: Vec<(String, String)>) -> BTreeMap<String, String> {
    form.into_iter().collect()
}

/// Renders the form (recorded values, or `entered` ones kept after a refusal).
async fn page(
    state: &AppState,
    auth: &Auth,
    id: i64,
    entered: Option<&BTreeMap<String, String>>,
    kept: Kept,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let s = &state.services;
    let f = survey::survey_form(s, &auth.user, id, entered)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let title = format!(
        "{} · {}",
        f.view.state.fields.household_no,
        auth.t.s("survey")
    );
    let l = Layout::new(auth, title);
    render(&SurveyPage::new(l, &s.codes(), f, kept), lang)
}

/// GET /households/{id}/survey: the form, pre-filled with the facts recorded.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let kept = Kept {
        effective_date: state.services.clock.today().to_string(),
        reason: "入户核查".into(),
        ..Kept::default()
    };
    page(&state, &auth, id, None, kept).await
}

/// POST /households/{id}/survey: records the facts that changed as one 入户核查 event, then
/// shows the household; a value that cannot be read or is refused shows the form again with
/// the reason beside the field and the values kept (422), another refusal (a newer version, a
/// closed year) with the reason on top.
pub async fn save(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let s = &state.services;
    auth.user
        .require_write()
        .map_err(|e| WebError::page(e, lang))?;
    let form = as_map(form);
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let bad = |m: &str| WebError::BadRequest(m.into());
    let version: i64 = get("version").parse().map_err(|_| bad("version"))?;
    let effective =
        parse_date(Some(&get("effective_date")))?.ok_or_else(|| bad("effective_date"))?;
    let mut kept = Kept {
        effective_date: get("effective_date"),
        reason: get("reason"),
        ..Kept::default()
    };
    let decls = survey::declared(s, Level::Household);
    let (facts, errs) = survey::parse_form(&decls, &form);
    let refused = |kept: &mut Kept, errs: Vec<xiuhua_domain::validate::FieldError>| {
        kept.messages.push(auth.t.s("survey_refused").to_string());
        for e in errs {
            kept.errors
                .insert(e.field.clone(), e.message.render(lang.messages()));
        }
    };
    if !errs.is_empty() {
        refused(&mut kept, errs);
        return again(&state, &auth, id, &form, kept).await;
    }
    let meta = ChangeMeta {
        source: SourceKind::Survey,
        ..ChangeMeta::manual(effective, get("reason"))
    };
    match survey::record_facts(s, &auth.user, id, version, &facts, &meta).await {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}#checklists")).into_response()),
        Err(xiuhua_app::Error::Invalid(errs)) => {
            refused(&mut kept, errs);
            again(&state, &auth, id, &form, kept).await
        }
        Err(
            e @ (xiuhua_app::Error::Conflict { .. }
            | xiuhua_app::Error::Refused { .. }
            | xiuhua_app::Error::Forbidden(_)),
        ) => {
            kept.messages.push(e.message().render(lang.messages()));
            again(&state, &auth, id, &form, kept).await
        }
        Err(e) => Err(WebError::page(e, lang)),
    }
}

/// The form again with what was entered, answered 422.
async fn again(
    state: &AppState,
    auth: &Auth,
    id: i64,
    form: &BTreeMap<String, String>,
    kept: Kept,
) -> Result<Response, WebError> {
    let mut res = page(state, auth, id, Some(form), kept)
        .await?
        .into_response();
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// POST /households/{id}/survey/preview: the checklists the entered values would give
/// (`partials/checklists.html`), nothing written. Open to every role that sees the household.
pub async fn preview(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let lists = survey::preview(&state.services, &auth.user, id, &as_map(form))
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(&auth, auth.t.s("checklists"));
    render(&ChecklistsFragment::new(l, lists), lang)
}
