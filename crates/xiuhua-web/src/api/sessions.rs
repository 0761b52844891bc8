//! Sessions: logging in through the API, and the logged-in user.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Auth, session_cookie};
use crate::error::{ErrorEnvelope, WebError};

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

impl From<&xiuhua_app::CurrentUser> for MeResponse {
    fn from(u: &xiuhua_app::CurrentUser) -> MeResponse {
        MeResponse {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.as_str().into(),
            region_code: u.region_code.clone(),
            csrf_token: u.csrf_token.clone(),
        }
    }
}

/// Log in; sets the session cookie and returns the CSRF token. A browser's request (one with an
/// `Origin` header) must come from this server's pages.
#[utoipa::path(post, path = "/api/v1/session", request_body = CreateSessionBody,
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<CreateSessionBody>,
) -> Result<Response, WebError> {
    if headers.contains_key(header::ORIGIN) && !crate::auth::same_origin_request(&headers) {
        return Err(WebError::Csrf);
    }
    let client = crate::auth::client_address(&headers);
    let (token, user) = xiuhua_app::auth::login(&state.services, &b.username, &b.password, &client)
        .await
        .map_err(WebError::api)?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(&token, state.config.secure_cookies),
        )],
        Json(MeResponse::from(&user)),
    )
        .into_response())
}

/// The current user.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeResponse), (status = 401, body = ErrorEnvelope)))]
pub async fn get_me(auth: Auth) -> Json<MeResponse> {
    Json(MeResponse::from(&auth.user))
}

/// What an unlock forgot.
#[derive(Serialize, ToSchema)]
pub struct UnlockResponse {
    /// Failed logins forgotten (from every address).
    pub forgotten: u64,
}

/// Lift an account's login lockouts from every address (administrators; needs `X-CSRF-Token`).
/// The access log records who did it.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UnlockResponse), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unlock_user(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Json<UnlockResponse>, WebError> {
    auth.check_csrf(headers.get("x-csrf-token").and_then(|v| v.to_str().ok()))?;
    let client = crate::auth::client_address(&headers);
    let forgotten = xiuhua_app::audit::unlock(&state.services, &auth.user, id, &client)
        .await
        .map_err(WebError::api)?;
    Ok(Json(UnlockResponse { forgotten }))
}
