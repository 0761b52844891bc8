//! The JSON API under `/api/v1`, documented by OpenAPI (`/api/openapi.json`). Handlers are
//! named `<verb>_<resource>`; those names are the operation ids.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiuhua_app::registry::{self, ChangeMeta, Counts, SearchParams, Tally, mask_id};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use crate::AppState;
use crate::auth::{Auth, CsrfJson, session_cookie};
use crate::error::{ErrorEnvelope, WebError};
use crate::pages::{member_names, parse_date};

/// Routes of the API with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(get_me))
        .routes(routes!(list_households))
        .routes(routes!(get_household, update_household))
        .routes(routes!(get_region))
        .routes(routes!(crate::admin_web::push_department_data))
        .merge(crate::rules_web::api_router())
}

/// Login body.
#[derive(Deserialize, ToSchema)]
pub struct CreateSessionBody {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The logged-in user.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// User name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Region scope.
    pub region_code: String,
    /// Send this as `X-CSRF-Token` on state-changing calls.
    pub csrf_token: String,
}

fn me(u: &xiuhua_app::CurrentUser) -> MeResponse {
    MeResponse {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.as_str().into(),
        region_code: u.region_code.clone(),
        csrf_token: u.csrf_token.clone(),
    }
}

/// Log in; sets the session cookie and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/session", request_body = CreateSessionBody,
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<CreateSessionBody>,
) -> Result<Response, WebError> {
    let client = crate::auth::client_address(&headers);
    let (token, user) = xiuhua_app::auth::login(&state.services, &b.username, &b.password, &client)
        .await
        .map_err(WebError::api)?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(&token, state.config.secure_cookies),
        )],
        Json(me(&user)),
    )
        .into_response())
}

/// The current user.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeResponse), (status = 401, body = ErrorEnvelope)))]
async fn get_me(auth: Auth) -> Json<MeResponse> {
    Json(me(&auth.user))
}

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

/// One household in a list.
#[derive(Serialize, ToSchema)]
pub struct HouseholdSummaryDto {
    /// Id.
    pub id: i64,
    /// 户编号.
    pub household_no: String,
    /// 户主姓名.
    pub head_name: String,
    /// 户主证件号码 (masked for roles that may not see it).
    pub head_id_number: String,
    /// 行政村 code.
    pub village_code: String,
    /// `general`, `poor` or `lifted`.
    pub status: String,
    /// `none`, `monitored` or `eliminated`.
    pub monitoring: String,
    /// 脱贫年度.
    pub exit_year: Option<i32>,
    /// Number of members.
    pub member_count: i32,
}

/// A page of households.
#[derive(Serialize, ToSchema)]
pub struct HouseholdListResponse {
    /// Matching households in total.
    pub total: i64,
    /// Page number.
    pub page: i64,
    /// Page size.
    pub per_page: i64,
    /// The page.
    pub items: Vec<HouseholdSummaryDto>,
}

/// Search households in your region.
#[utoipa::path(get, path = "/api/v1/households", params(ListHouseholdsParams),
    responses((status = 200, body = HouseholdListResponse), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn list_households(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<ListHouseholdsParams>,
) -> Result<Json<HouseholdListResponse>, WebError> {
    let per_page = p.per_page.unwrap_or(50).clamp(1, 500);
    let page = p.page.unwrap_or(1).max(1);
    let params = SearchParams {
        region: p.region,
        text: p.q,
        status: p.status.as_deref().and_then(RegistryStatus::parse),
        monitoring: p.monitoring.as_deref().and_then(MonitoringStatus::parse),
        page,
        per_page,
    };
    let (list, total) = registry::search(&state.services, &auth.user, &params)
        .await
        .map_err(WebError::api)?;
    let items = list
        .into_iter()
        .map(|r| HouseholdSummaryDto {
            id: r.id,
            household_no: r.household_no,
            head_name: r.head_name,
            head_id_number: r.head_id_number,
            village_code: r.village_code,
            status: r.status.as_str().into(),
            monitoring: r.monitoring.as_str().into(),
            exit_year: r.exit_year,
            member_count: r.member_count,
        })
        .collect();
    Ok(Json(HouseholdListResponse {
        total,
        page,
        per_page,
        items,
    }))
}

/// `as_of` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfParams {
    /// Show the state at the end of this date (YYYY-MM-DD); omit for now.
    pub as_of: Option<String>,
}

/// A member.
#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    /// Member id.
    pub id: i64,
    /// 姓名.
    pub name: String,
    /// 证件号码 (masked for roles that may not see it).
    pub id_number: String,
    /// Sex code (1 男, 2 女).
    pub sex: String,
    /// 出生日期.
    pub birth_date: Option<String>,
    /// 与户主关系 code.
    pub relation: String,
    /// All other member fields, as stored (code values).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// A history event.
#[derive(Serialize, ToSchema)]
pub struct EventDto {
    /// Event id.
    pub id: i64,
    /// Kind (`created`, `edited`, `status_changed`, `member_added`, …).
    pub kind: String,
    /// Who.
    pub actor: String,
    /// When written (RFC 3339).
    pub recorded_at: String,
    /// From when it is true.
    pub effective_date: String,
    /// Why.
    pub reason: String,
    /// Source kind.
    pub source: String,
    /// Source reference.
    pub source_ref: Option<String>,
    /// The changes (`op`: create, set_fields, add_member, update_member, remove_member).
    #[schema(value_type = Vec<Object>)]
    pub changes: serde_json::Value,
}

/// A household with its history.
#[derive(Serialize, ToSchema)]
pub struct HouseholdDto {
    /// Id.
    pub id: i64,
    /// Version; send it back when editing.
    pub version: i64,
    /// The date shown, if "as of".
    pub as_of: Option<String>,
    /// Whether the household existed on that date.
    pub exists: bool,
    /// Household fields (see docs/api-design.md for the field list).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// Members at that date.
    pub members: Vec<MemberDto>,
    /// 年人均纯收入 in 分.
    pub per_capita_income_fen: Option<i64>,
    /// The whole history, oldest first.
    pub events: Vec<EventDto>,
}

/// A household (now, or as of a date) with its history.
#[utoipa::path(get, path = "/api/v1/households/{id}", params(("id" = i64, Path, description = "Household id"), AsOfParams),
    responses((status = 200, body = HouseholdDto), (status = 404, body = ErrorEnvelope)))]
async fn get_household(
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
    let full = v.full_personal_data;
    let _ = member_names(&v.events);
    let members = v
        .state
        .members
        .iter()
        .map(|m| {
            let mut details = serde_json::to_value(m).unwrap_or_default();
            if let Some(o) = details.as_object_mut() {
                for k in ["id", "name", "id_number", "sex", "birth_date", "relation"] {
                    o.remove(k);
                }
                if !full {
                    o.remove("phone");
                }
            }
            MemberDto {
                id: m.id,
                name: m.name.clone(),
                id_number: mask_id(&m.id_number, full),
                sex: m.sex.clone(),
                birth_date: m.birth_date.map(|d| d.to_string()),
                relation: m.relation.clone(),
                details,
            }
        })
        .collect();
    let events = v
        .events
        .iter()
        .map(|e| EventDto {
            id: e.id,
            kind: e.kind.as_str().into(),
            actor: e.actor.clone(),
            recorded_at: e
                .recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            effective_date: e.effective_date.to_string(),
            reason: e.reason.clone(),
            source: e.source.as_str().into(),
            source_ref: e.source_ref.clone(),
            changes: if full {
                serde_json::to_value(&e.changes).unwrap_or_default()
            } else {
                serde_json::Value::Array(vec![])
            },
        })
        .collect();
    let mut fields = serde_json::to_value(&v.state.fields).unwrap_or_default();
    if !full && let Some(o) = fields.as_object_mut() {
        o.insert("phone".into(), serde_json::Value::Null);
    }
    Ok(Json(HouseholdDto {
        id,
        version: v.version,
        as_of: as_of.map(|d| d.to_string()),
        exists: !v.state.fields.household_no.is_empty(),
        fields,
        per_capita_income_fen: v.state.per_capita_income().map(|f| f.0),
        members,
        events,
    }))
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
async fn update_household(
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

/// Households and people.
#[derive(Serialize, ToSchema, Clone, Copy)]
pub struct TallyDto {
    /// Households.
    pub households: i64,
    /// People.
    pub people: i64,
}

impl From<Tally> for TallyDto {
    fn from(t: Tally) -> TallyDto {
        TallyDto {
            households: t.households,
            people: t.people,
        }
    }
}

/// Counts by 户类型 and 监测状态.
#[derive(Serialize, ToSchema)]
pub struct CountsDto {
    /// Everyone.
    pub total: TallyDto,
    /// 一般农户.
    pub general: TallyDto,
    /// 贫困户.
    pub poor: TallyDto,
    /// 已脱贫户.
    pub lifted: TallyDto,
    /// 监测对象 (risk not eliminated).
    pub monitored: TallyDto,
    /// 风险已消除.
    pub eliminated: TallyDto,
}

impl From<&Counts> for CountsDto {
    fn from(c: &Counts) -> CountsDto {
        CountsDto {
            total: c.total.into(),
            general: c.status(RegistryStatus::General).into(),
            poor: c.status(RegistryStatus::Poor).into(),
            lifted: c.status(RegistryStatus::Lifted).into(),
            monitored: c.monitoring(MonitoringStatus::Monitored).into(),
            eliminated: c.monitoring(MonitoringStatus::Eliminated).into(),
        }
    }
}

/// A child region with its counts.
#[derive(Serialize, ToSchema)]
pub struct ChildRegionDto {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether it is a 贫困村.
    pub is_poor_village: bool,
    /// Counts.
    pub counts: CountsDto,
}

/// A region with its counts.
#[derive(Serialize, ToSchema)]
pub struct RegionDto {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level 1 (province) … 6 (group).
    pub level: i16,
    /// Parent code.
    pub parent_code: Option<String>,
    /// The date counted, if "as of".
    pub as_of: Option<String>,
    /// Counts of the region.
    pub counts: CountsDto,
    /// Children with their counts.
    pub children: Vec<ChildRegionDto>,
}

/// A region's counts (now, or as of a date) and its children's.
#[utoipa::path(get, path = "/api/v1/regions/{code}", params(("code" = String, Path, description = "Region code"), AsOfParams),
    responses((status = 200, body = RegionDto), (status = 404, body = ErrorEnvelope)))]
async fn get_region(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    Query(q): Query<AsOfParams>,
) -> Result<Json<RegionDto>, WebError> {
    let as_of = parse_date(q.as_of.as_deref())?;
    let v = registry::region(&state.services, &auth.user, &code, as_of)
        .await
        .map_err(WebError::api)?;
    Ok(Json(RegionDto {
        code: v.region.code.clone(),
        name: v.region.name.clone(),
        level: v.region.level,
        parent_code: v.region.parent_code.clone(),
        as_of: as_of.map(|d| d.to_string()),
        counts: (&v.counts).into(),
        children: v
            .children
            .iter()
            .map(|(r, c)| ChildRegionDto {
                code: r.code.clone(),
                name: r.name.clone(),
                is_poor_village: r.is_poor_village == 1,
                counts: c.into(),
            })
            .collect(),
    }))
}
