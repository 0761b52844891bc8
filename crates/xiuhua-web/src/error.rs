//! Maps `xiuhua_app::Error` to HTTP: an HTML error page for browsers, one JSON envelope
//! (`{"error": {"code", "message", "message_zh", "fields"}}`) for `/api`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;
use utoipa::ToSchema;

use xiuhua_domain::message::Message;

use crate::i18n::{Lang, T};

/// An error on its way out.
#[derive(Debug)]
pub enum WebError {
    /// A use-case error, rendered for a page (`json = false`) or the API.
    App {
        /// The error.
        error: xiuhua_app::Error,
        /// Whether the client wants JSON.
        json: bool,
        /// UI language.
        lang: Lang,
    },
    /// Not logged in: pages redirect to the login form, the API answers 401.
    Unauthenticated {
        /// Whether the client wants JSON.
        json: bool,
    },
    /// A form or API call without the session's CSRF token.
    Csrf,
    /// A malformed request (bad date, bad number).
    BadRequest(String),
    /// A request refused before its use case ran (a search text too long, an upload too large
    /// or too many at once), with its status, stable code and a catalogue message.
    Refused {
        /// HTTP status (400, 413, 429 …).
        status: StatusCode,
        /// Stable code of the envelope.
        code: &'static str,
        /// What the person reads.
        message: Message,
        /// Whether the client wants JSON.
        json: bool,
        /// UI language.
        lang: Lang,
    },
}

impl WebError {
    /// A page error.
    pub fn page(error: xiuhua_app::Error, lang: Lang) -> WebError {
        WebError::App {
            error,
            json: false,
            lang,
        }
    }

    /// An API error.
    pub fn api(error: xiuhua_app::Error) -> WebError {
        WebError::App {
            error,
            json: true,
            lang: Lang::Zh,
        }
    }
}

/// One field problem in an error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDto {
    /// The record (household number, member name and ID).
    pub record: String,
    /// The field.
    pub field: String,
    /// Stable code.
    pub code: String,
    /// English reason.
    pub message: String,
    /// Chinese reason.
    pub message_zh: String,
}

/// The error envelope's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `not_found`, `invalid`, `stale_version`.
    pub code: String,
    /// English message.
    pub message: String,
    /// Chinese message.
    pub message_zh: String,
    /// Field problems (for `invalid`).
    pub fields: Vec<FieldErrorDto>,
    /// For `stale_version`: `current_version`, `your_version`, `current` (the household as
    /// stored now), `changes_since_your_version` (who changed what, when) and `yours` (the
    /// changes you sent), so both versions can be shown side by side.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// The JSON error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

fn status_and_code(e: &xiuhua_app::Error) -> (StatusCode, String) {
    use xiuhua_app::Error as E;
    match e {
        E::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found".into()),
        E::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden".into()),
        E::Refused { code, .. } => (StatusCode::FORBIDDEN, (*code).into()),
        E::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into()),
        E::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials".into()),
        E::Locked { .. } => (StatusCode::TOO_MANY_REQUESTS, "locked".into()),
        E::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid".into()),
        E::Conflict { code, .. } => (StatusCode::CONFLICT, (*code).into()),
        E::Unexpected(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal".into()),
    }
}

fn envelope(
    status: StatusCode,
    code: &str,
    message: String,
    message_zh: String,
    fields: Vec<FieldErrorDto>,
) -> Response {
    envelope_with(status, code, message, message_zh, fields, None)
}

fn envelope_with(
    status: StatusCode,
    code: &str,
    message: String,
    message_zh: String,
    fields: Vec<FieldErrorDto>,
    details: Option<serde_json::Value>,
) -> Response {
    (
        status,
        Json(ErrorEnvelope {
            error: ErrorBody {
                code: code.into(),
                message,
                message_zh,
                fields,
                details,
            },
        }),
    )
        .into_response()
}

/// What an HTML error page says, kept on its response so that [`error_pages_with_nav`] can
/// render it again inside the navigation of the logged-in user.
#[derive(Clone, Debug)]
pub struct ErrorPageInfo {
    /// The status shown.
    pub status: StatusCode,
    /// The message, in the page language.
    pub message: String,
}

/// An HTML error page (without navigation: the layout of a page shown without a session);
/// [`error_pages_with_nav`] adds the user's navigation.
fn html_error(lang: Lang, status: StatusCode, message: String) -> Response {
    let t = T { lang };
    let mut res = (
        status,
        Html(crate::views::error_page(&t, status.as_u16(), &message)),
    )
        .into_response();
    res.extensions_mut()
        .insert(ErrorPageInfo { status, message });
    res
}

/// Renders the HTML error pages of logged-in users (403, 404, 422, 500 …) again with their
/// navigation bar: the page a handler's error became knows no session, so this layer looks
/// the session up — only for an error page whose request carried a cookie — and renders the
/// same status and message inside the user's layout.
pub async fn error_pages_with_nav(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::extract::FromRequestParts;
    let page = !req.uri().path().starts_with("/api/")
        && req.headers().contains_key(axum::http::header::COOKIE);
    let headers = page.then(|| req.headers().clone());
    let res = next.run(req).await;
    let (Some(info), Some(headers)) = (res.extensions().get::<ErrorPageInfo>().cloned(), headers)
    else {
        return res;
    };
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    let Ok(auth) = crate::auth::Auth::from_request_parts(&mut parts, &state).await else {
        return res;
    };
    let l = crate::views::Layout::new(&auth, auth.t.s("error"));
    let body = crate::views::error_page_in(l, info.status.as_u16(), &info.message);
    let (mut head, _) = res.into_parts();
    head.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(head, axum::body::Body::from(body))
}

/// The answer to a path no route serves: the 404 page (the JSON envelope under `/api/`).
pub async fn not_found(headers: axum::http::HeaderMap, uri: axum::http::Uri) -> Response {
    let lang = crate::auth::lang(&headers);
    let error = xiuhua_app::Error::NotFound {
        what: uri.path().to_string(),
    };
    if uri.path().starts_with("/api/") {
        WebError::api(error).into_response()
    } else {
        WebError::page(error, lang).into_response()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Unauthenticated { json: false } => Redirect::to("/login").into_response(),
            WebError::Unauthenticated { json: true } => envelope(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "log in first".into(),
                "请先登录".into(),
                vec![],
            ),
            WebError::Csrf => envelope(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong CSRF token".into(),
                "页面已过期或请求来源不明，请刷新后重试".into(),
                vec![],
            ),
            WebError::BadRequest(m) => envelope(
                StatusCode::BAD_REQUEST,
                "bad_request",
                m.clone(),
                format!("请求格式错误：{m}"),
                vec![],
            ),
            WebError::Refused {
                status,
                code,
                message,
                json,
                lang,
            } => {
                if json {
                    envelope(status, code, message.en(), message.zh(), vec![])
                } else {
                    let text = if lang == Lang::Zh {
                        message.zh()
                    } else {
                        message.en()
                    };
                    html_error(lang, status, text)
                }
            }
            WebError::App { error, json, lang } => {
                let (status, code) = status_and_code(&error);
                if let xiuhua_app::Error::Unexpected(e) = &error {
                    tracing::error!(error = %format!("{e:#}"), "request failed");
                }
                let zh = error.message_zh();
                let en = match &error {
                    xiuhua_app::Error::Unexpected(_) => "internal error".to_string(),
                    other => other.to_string(),
                };
                if json {
                    let fields = match &error {
                        xiuhua_app::Error::Invalid(errs) => errs
                            .iter()
                            .map(|f| FieldErrorDto {
                                record: f.record.clone(),
                                field: f.field.clone(),
                                code: f.code.into(),
                                message: f.message_en(),
                                message_zh: f.message_zh(),
                            })
                            .collect(),
                        _ => vec![],
                    };
                    let details = match &error {
                        xiuhua_app::Error::Conflict { details, .. } => details.clone(),
                        _ => None,
                    };
                    envelope_with(status, &code, en, zh, fields, details)
                } else {
                    let msg = if lang == Lang::Zh { zh } else { en };
                    html_error(lang, status, msg)
                }
            }
        }
    }
}

/// Rewrites the plain-text rejections that axum's extractors produce for API requests (a body
/// that is not JSON, a path id that is not a number, a missing `Content-Type` …) into the same
/// JSON error envelope as every other API error, keeping their status.
pub async fn api_rejections_as_json(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let plain = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !api || !plain || !res.status().is_client_error() {
        return res;
    }
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes).into_owned();
    let code = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        _ => "bad_request",
    };
    envelope(
        status,
        code,
        detail.clone(),
        format!("请求格式错误：{detail}"),
        vec![],
    )
}
