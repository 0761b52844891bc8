//! Department pushes: the token-authenticated `POST /api/v1/department-data`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xiuhua_app::departments::{self, PushError};
use xiuhua_domain::message::msg;

use crate::AppState;
use crate::error::{ErrorEnvelope, WebError};

/// Query of a department push.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PushQuery {
    /// The file's name (kept with the batch; `.xlsx`, `.xls` or `.csv`).
    pub file_name: Option<String>,
}

/// What a push stored: counts of the file's own rows. Whether the people in it are registered
/// is not told to the pusher (county staff see the matches on the departments page).
#[derive(Serialize, ToSchema)]
pub struct PushResponse {
    /// Batch id.
    pub batch_id: i64,
    /// Data rows accepted.
    pub accepted: i64,
    /// Data rows rejected (a file with bad rows is refused whole with 422, every bad row named
    /// with its own format problem; a stored batch rejected none).
    pub rejected: i64,
    /// The same file had been pushed before; nothing new was stored.
    pub duplicate: bool,
}

/// Push a department's data file (xlsx, xls or CSV with a 身份证号 column). Authenticated with
/// `Authorization: Bearer xht_…` (an API token made by an administrator); sessions are not
/// accepted here and tokens are accepted nowhere else. All rows or none.
#[utoipa::path(post, path = "/api/v1/department-data", params(PushQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 200, body = PushResponse), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn push_department_data(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PushQuery>,
    req: axum::extract::Request,
) -> Result<Json<PushResponse>, WebError> {
    let secret = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim();
    let token = xiuhua_app::users::token_identity(&state.services, secret)
        .await
        .map_err(WebError::api)?
        .ok_or(WebError::Unauthenticated { json: true })?;
    // The body is read only for a valid token (within axum's default body limit, 2 MiB).
    let body = Bytes::from_request(req, &state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            WebError::Refused {
                status: e.status(),
                code: "too_large",
                message: msg("upload_too_large").arg("max_mib", 2),
                json: true,
                lang: crate::i18n::Lang::Zh,
            }
        } else {
            WebError::BadRequest(e.body_text())
        }
    })?;
    let file_name = q.file_name.unwrap_or_else(|| "push".into());
    match departments::push(&state.services, &token, &file_name, &body).await {
        Ok(r) => Ok(Json(PushResponse {
            batch_id: r.batch_id,
            accepted: r.accepted,
            rejected: r.rejected,
            duplicate: r.duplicate,
        })),
        Err(PushError::App(e)) => Err(WebError::api(e)),
        Err(PushError::Rows(problems)) => Err(WebError::api(xiuhua_app::Error::Invalid(
            problems
                .iter()
                .map(|p| {
                    xiuhua_domain::FieldError::new(
                        format!("{} 第{}行", p.sheet, p.row),
                        &p.column,
                        "bad_id_number",
                        msg("bad_id_number")
                            .arg("value", &p.value)
                            .arg("reason_zh", &p.reason_zh)
                            .arg("row", p.row)
                            .arg("reason_en", &p.reason_en),
                    )
                })
                .collect(),
        ))),
        Err(e) => Err(WebError::api(xiuhua_app::Error::invalid(
            &file_name,
            "file",
            "unreadable",
            e.message(),
        ))),
    }
}
