//! HTML pages, one module per resource, with the resource verbs as handler names (`list`,
//! `show`, `new_form`, `create`, `edit_form`, `update`, `delete`). A handler parses the request,
//! calls the use case(s) in `xiuhua-app`, and hands their answers to a view in [`crate::views`].

pub mod account;
pub mod departments;
pub mod exports;
pub mod households;
pub mod imports;
pub mod regions;
pub mod rules;
pub mod sessions;
pub mod tokens;
pub mod users;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::AppState;
use crate::error::WebError;

/// The routes of the HTML pages (and of the few files and JSON answers they link to).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(regions::list))
        .route("/login", get(sessions::new_form).post(sessions::create))
        .route("/logout", post(sessions::delete))
        .route("/lang/{code}", get(set_lang))
        .route("/regions/{code}", get(regions::show))
        .route("/households", get(households::list))
        .route("/households/{id}", get(households::show))
        .route("/households/export", get(exports::households))
        .route("/households/{id}/edit", post(households::update))
        .route(
            "/imports",
            get(imports::new_form)
                .post(imports::create)
                .layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024)),
        )
        .route("/imports/errors/{token}", get(imports::error_workbook))
        .route("/imports/jobs/{id}", get(imports::status))
        .route("/imports/jobs/{id}/report", get(imports::show))
        .route("/exports/registry", get(exports::registry))
        .route("/exports/statistics", get(exports::statistics))
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/{id}", get(rules::show))
        .route("/rules/{id}/simulate", get(rules::simulate))
        .route("/rules/{id}/simulate.xlsx", get(rules::simulate_xlsx))
        .route("/rules/{id}/runs", post(rules::create_run))
        .route(
            "/rules/runs/{run}/households/{household}",
            get(rules::explain),
        )
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{id}", get(users::show).post(users::update))
        .route("/admin/users/{id}/password", post(users::reset_password))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route("/departments", get(departments::list))
        .route(
            "/account/password",
            get(account::edit_form).post(account::update),
        )
}

/// `?as_of=YYYY-MM-DD` (empty means now).
#[derive(Deserialize)]
pub struct AsOfQuery {
    as_of: Option<String>,
}

/// Parses an optional ISO date from a query.
pub fn parse_date(s: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("invalid date {s:?}, expected YYYY-MM-DD"))),
    }
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// GET /lang/{zh|en}: sets the language cookie and goes back.
pub async fn set_lang(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let lang = if code == "en" { "en" } else { "zh" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .unwrap_or_else(|| "/".into());
    (
        [(
            header::SET_COOKIE,
            format!("lang={lang}; Path=/; SameSite=Lax; Max-Age=31536000"),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

/// The message of an app error in the page language, for errors shown next to a form; `None`
/// for errors that get the error page.
pub(crate) fn form_message(e: &xiuhua_app::Error, lang: crate::i18n::Lang) -> Option<String> {
    match e {
        xiuhua_app::Error::Invalid(_)
        | xiuhua_app::Error::Conflict { .. }
        | xiuhua_app::Error::Forbidden(_)
        | xiuhua_app::Error::Refused { .. } => Some(if lang == crate::i18n::Lang::Zh {
            e.message_zh()
        } else {
            e.to_string()
        }),
        _ => None,
    }
}
