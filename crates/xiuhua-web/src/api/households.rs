//! Households: search, one household (now or as of a date) with its history, and edits of its
//! fields with the version read.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xiuhua_app::registry::{self, ChangeMeta, SearchParams};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use super::AsOfParams;
use super::dto::{HouseholdDto, HouseholdListResponse, HouseholdSummaryDto};
use crate::AppState;
use crate::auth::{Auth, CsrfJson};
use crate::error::{ErrorEnvelope, WebError};
use crate::pages::parse_date;

/// Household search parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListHouseholdsParams {
    /// Region code (defaults to your scope).
    pub region: Option<String>,
    /// Name prefix, 户编号 or 身份证号.
    pub q: Option<String>,
    /// `general`, `poor` or `lifted`.
    pub status: Option<String>,
    /// `none`, `monitored` or `eliminated`.
    pub monitoring: Option<String>,
    /// Page (1-based).
    pub page: Option<i64>,
    /// Page size (max 500).
    pub per_page: Option<i64>,
}

/// Search households in your region.
#[utoipa::path(get, path = "/api/v1/households", params(ListHouseholdsParams),
    responses((status = 200, body = HouseholdListResponse), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope, description = "a search by identity number without the right to see full numbers"), (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope, description = "too many searches by identity number")))]
pub async fn list_households(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Query(p): Query<ListHouseholdsParams>,
) -> Result<Json<HouseholdListResponse>, WebError> {
    let per_page = p.per_page.unwrap_or(50).clamp(1, 500);
    let page = p.page.unwrap_or(1).max(1);
    let params = SearchParams {
        region: p.region,
        text: crate::pages::search_text(p.q, true, crate::i18n::Lang::Zh)?,
        status: p.status.as_deref().and_then(RegistryStatus::parse),
        monitoring: p.monitoring.as_deref().and_then(MonitoringStatus::parse),
        page,
        per_page,
    };
    let client = crate::auth::client_address(&headers);
    let (list, total) = registry::search_from(&state.services, &auth.user, &params, &client)
        .await
        .map_err(WebError::api)?;
    let items = list.into_iter().map(HouseholdSummaryDto::from).collect();
    Ok(Json(HouseholdListResponse {
        total,
        page,
        per_page,
        items,
    }))
}

/// A household (now, or as of a date) with its history.
#[utoipa::path(get, path = "/api/v1/households/{id}", params(("id" = i64, Path, description = "Household id"), AsOfParams),
    responses((status = 200, body = HouseholdDto), (status = 404, body = ErrorEnvelope)))]
pub async fn get_household(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AsOfParams>,
) -> Result<Json<HouseholdDto>, WebError> {
    let as_of = parse_date(q.as_of.as_deref())?;
    let v = xiuhua_app::household_views::view_household(
        &state.services,
        &auth.user,
        id,
        as_of,
        xiuhua_app::household_views::Channel::Api,
        &crate::auth::client_address(&headers),
    )
    .await
    .map_err(WebError::api)?;
    Ok(Json(HouseholdDto::new(id, as_of, &v)))
}

/// An edit of household fields.
#[derive(Deserialize, ToSchema)]
pub struct UpdateHouseholdBody {
    /// The version you edited (from `GET`); a stale version is refused with 409.
    pub version: i64,
    /// From when the change is true.
    #[schema(value_type = String, format = Date)]
    pub effective_date: NaiveDate,
    /// Why.
    pub reason: String,
    /// An explicit correction of a closed year.
    #[serde(default)]
    pub correction: bool,
    /// Field name → new value.
    #[schema(value_type = Object)]
    pub fields: FieldPatch,
}

/// The new version after an edit.
#[derive(Serialize, ToSchema)]
pub struct VersionResponse {
    /// New version.
    pub version: i64,
}

/// Edit household fields (needs `X-CSRF-Token`).
#[utoipa::path(patch, path = "/api/v1/households/{id}", params(("id" = i64, Path, description = "Household id")), request_body = UpdateHouseholdBody,
    responses((status = 200, body = VersionResponse), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_household(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfJson(b): CsrfJson<UpdateHouseholdBody>,
) -> Result<Json<VersionResponse>, WebError> {
    let meta = ChangeMeta {
        correction: b.correction,
        ..ChangeMeta::manual(b.effective_date, b.reason)
    };
    let version =
        registry::edit_household(&state.services, &auth.user, id, b.version, b.fields, &meta)
            .await
            .map_err(WebError::api)?;
    Ok(Json(VersionResponse { version }))
}
