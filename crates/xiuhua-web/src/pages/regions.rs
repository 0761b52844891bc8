//! Region pages: the user's own region (or the counties, for an unscoped administrator) and a
//! region's counts now or as of a date.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use xiuhua_app::registry;

use super::{AsOfQuery, parse_date};
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::views::regions::{RegionPage, RootsPage};
use crate::views::{Layout, render};

/// GET /: the user's own region, or the list of counties for an unscoped administrator.
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    let roots = xiuhua_app::regions::roots(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    if roots.len() == 1 {
        return Ok(Redirect::to(&format!("/regions/{}", roots[0].code)).into_response());
    }
    let regions = roots.into_iter().map(|r| (r.code, r.name)).collect();
    let page = RootsPage::new(Layout::new(&auth, auth.t.s("home")), regions);
    Ok(render(&page, auth.t.lang)?.into_response())
}

/// GET /regions/{code}
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(q.as_of.as_deref())?;
    let v = registry::region(&state.services, &auth.user, &code, as_of)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let page = RegionPage::new(Layout::new(&auth, v.region.name.clone()), &v, &code, as_of);
    render(&page, lang)
}
