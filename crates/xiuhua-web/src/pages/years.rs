//! 年度动态调整 for the county administrator: the county's years (closed with who and when, or
//! open, and whether each can be closed now), the confirmation that shows the counts a close
//! freezes, and the close itself (`xiuhua_app::registry::close_year`).

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use xiuhua_app::registry;

use super::{form_message, url_encode};
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::views::admin::{CloseYearPage, YearsPage};
use crate::views::{Layout, render};

/// `?county=…` (an unscoped administrator picks one; others have theirs) and `?closed=YYYY`
/// after a close.
#[derive(Deserialize)]
pub struct YearsQuery {
    county: Option<String>,
    closed: Option<i32>,
}

/// The county a request is about: the user's own (the first six digits of their region), or
/// for an unscoped administrator the one asked for, else the first stored county.
async fn county_of(state: &AppState, auth: &Auth, asked: Option<&str>) -> Result<String, WebError> {
    let lang = auth.t.lang;
    auth.user
        .require_county()
        .map_err(|e| WebError::page(e, lang))?;
    let own = &auth.user.region_code;
    if own.len() >= 6 {
        return Ok(own[..6].to_string());
    }
    if let Some(c) = asked.map(str::trim).filter(|c| !c.is_empty()) {
        return Ok(c.to_string());
    }
    let roots = xiuhua_app::regions::roots(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    roots.into_iter().next().map(|r| r.code).ok_or_else(|| {
        WebError::page(
            xiuhua_app::Error::NotFound {
                what: "county".into(),
            },
            lang,
        )
    })
}

async fn years_page(
    state: &AppState,
    auth: &Auth,
    county: &str,
    message: String,
    error: bool,
    closed: Option<i32>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let years = registry::years(&state.services, &auth.user, county)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let counties = if auth.user.region_code.is_empty() {
        xiuhua_app::regions::roots(&state.services, &auth.user)
            .await
            .map_err(|e| WebError::page(e, lang))?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect()
    } else {
        Vec::new()
    };
    let l = Layout::new(auth, auth.t.s("years_admin"));
    render(
        &YearsPage::new(l, county, counties, years, message, error, closed),
        lang,
    )
}

/// GET /admin/years: the county's years and which can be closed.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<YearsQuery>,
) -> Result<Html<String>, WebError> {
    let county = county_of(&state, &auth, q.county.as_deref()).await?;
    let done = q
        .closed
        .map(|y| format!("{y} {}", auth.t.s("year_closed_done")))
        .unwrap_or_default();
    years_page(&state, &auth, &county, done, false, q.closed).await
}

/// GET /admin/years/{year}/close: the confirmation with the counts the close freezes, or the
/// years page saying why the year cannot be closed.
pub async fn confirm(
    State(state): State<AppState>,
    auth: Auth,
    Path(year): Path<i32>,
    Query(q): Query<YearsQuery>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let county = county_of(&state, &auth, q.county.as_deref()).await?;
    match registry::close_year_preview(&state.services, &auth.user, &county, year).await {
        Ok(counts) => {
            let l = Layout::new(&auth, format!("{} {year}", auth.t.s("close_year")));
            Ok(render(&CloseYearPage::new(l, &county, year, &counts), lang)?.into_response())
        }
        Err(e) => match form_message(&e, lang) {
            Some(m) => Ok(years_page(&state, &auth, &county, m, true, None)
                .await?
                .into_response()),
            None => Err(WebError::page(e, lang)),
        },
    }
}

/// The close form: the county (the year is in the path).
#[derive(Deserialize)]
pub struct CloseForm {
    county: String,
}

/// POST /admin/years/{year}/close: closes the year, then back to the years page.
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    Path(year): Path<i32>,
    CsrfForm(f): CsrfForm<CloseForm>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let county = county_of(&state, &auth, Some(&f.county)).await?;
    match registry::close_year(&state.services, &auth.user, &county, year).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/years?county={}&closed={year}",
            url_encode(&county)
        ))
        .into_response()),
        Err(e) => match form_message(&e, lang) {
            Some(m) => Ok(years_page(&state, &auth, &county, m, true, None)
                .await?
                .into_response()),
            None => Err(WebError::page(e, lang)),
        },
    }
}
