//! HTML pages, one module per resource, with the resource verbs as handler names (`list`,
//! `show`, `new_form`, `create`, `edit_form`, `update`, `delete`). A handler parses the request,
//! calls the use case(s) in `xiuhua-app`, and hands their answers to a view in [`crate::views`].

pub mod account;
pub mod audit;
pub mod departments;
pub mod exports;
pub mod household_changes;
pub mod households;
pub mod imports;
pub mod regions;
pub mod rules;
pub mod sessions;
pub mod survey;
pub mod tokens;
pub mod users;
pub mod years;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;

use xiuhua_domain::message::msg;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Lang;

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
        // Household changes besides the field edit (issue 13).
        .route(
            "/households/{id}/members",
            post(household_changes::add_member),
        )
        .route(
            "/households/{id}/members/{member}/edit",
            post(household_changes::update_member),
        )
        .route(
            "/households/{id}/members/{member}/remove",
            post(household_changes::remove_member),
        )
        .route(
            "/households/{id}/members/{member}/move",
            post(household_changes::move_member),
        )
        .route(
            "/households/{id}/head",
            get(household_changes::head_form).post(household_changes::change_head),
        )
        .route(
            "/households/{id}/status",
            post(household_changes::change_status),
        )
        // 入户核查: the survey form, its save and the live checklists.
        .route(
            "/households/{id}/survey",
            get(survey::show).post(survey::save),
        )
        .route("/households/{id}/survey/preview", post(survey::preview))
        // The upload streams to a file under its own limit (`WebConfig::max_upload_bytes`),
        // after the session, the role and the CSRF token were checked.
        .route(
            "/imports",
            get(imports::new_form)
                .post(imports::create)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/imports/errors/{token}", get(imports::error_workbook))
        .route("/imports/jobs/{id}", get(imports::status))
        .route("/imports/jobs/{id}/report", get(imports::show))
        .route("/imports/jobs/{id}/recheck", post(imports::recheck))
        .route("/imports/mappings/delete", post(imports::delete_mapping))
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
        .route("/rules/runs/{run}", get(rules::show_run))
        .route("/rules/runs/{run}/export.xlsx", get(rules::export_run))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{id}", get(users::show).post(users::update))
        .route("/admin/users/{id}/password", post(users::reset_password))
        .route("/admin/users/{id}/unlock", post(users::unlock))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route("/departments", get(departments::list))
        // Helper B (issue 13): years, access log, API docs.
        .route("/admin/years", get(years::list))
        .route("/admin/audit", get(audit::list))
        .route("/admin/audit/export.xlsx", get(audit::export))
        .route(
            "/admin/years/{year}/close",
            get(years::confirm).post(years::close),
        )
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

/// GET /lang/{zh|en}: sets the language cookie and goes back to the page it came from, when
/// that page is on this server (see [`same_origin_path`]); otherwise to `/`.
pub async fn set_lang(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let lang = if code == "en" { "en" } else { "zh" };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| same_origin_path(r, host))
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

/// The local path of a URL (a `Referer`, a `next` value) that may be redirected to: an absolute
/// `http(s)://host/…` URL whose host is this server's (`host`, the request's `Host`), or a path
/// that starts with one `/`. Never `//host`, `/\host`, another scheme, another host, or
/// anything with control characters or backslashes (browsers read `\` as `/`). `None` means:
/// go to `/` instead.
pub fn same_origin_path(url: &str, host: Option<&str>) -> Option<String> {
    if url.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let path = if url.starts_with('/') {
        url
    } else {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if host.is_none_or(|h| !authority.eq_ignore_ascii_case(h)) || authority.contains('@') {
            return None;
        }
        if path.is_empty() { "/" } else { path }
    };
    let ok = path.starts_with('/') && !path.starts_with("//");
    ok.then(|| path.to_string())
}

/// The search text of a household list, page or API: refused with 400 when longer than the app
/// accepts ([`xiuhua_app::registry::MAX_SEARCH_CHARS`]).
pub fn search_text(q: Option<String>, json: bool, lang: Lang) -> Result<Option<String>, WebError> {
    match xiuhua_app::registry::check_search_text(q.as_deref()) {
        Ok(()) => Ok(q),
        Err(_) => Err(WebError::Refused {
            status: axum::http::StatusCode::BAD_REQUEST,
            code: "search_too_long",
            message: msg("search_too_long").arg("max", xiuhua_app::registry::MAX_SEARCH_CHARS),
            json,
            lang,
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::same_origin_path;

    #[test]
    fn redirects_stay_on_this_server() {
        let h = Some("xiuhua.local:8080");
        for (url, want) in [
            (
                "http://xiuhua.local:8080/households?q=1",
                Some("/households?q=1"),
            ),
            ("https://xiuhua.local:8080", Some("/")),
            ("/regions/451228", Some("/regions/451228")),
            ("https://evil.example//evil2.example/x", None),
            ("http://xiuhua.local:8080//evil2.example/x", None),
            ("http://xiuhua.local:8080/\\evil.example", None),
            ("//evil.example/x", None),
            ("/\\evil.example", None),
            ("javascript:alert(1)", None),
            ("http://evil.example/x", None),
            ("http://xiuhua.local:8080@evil.example/x", None),
            ("http://xiuhua.local:8080.evil.example/x", None),
            ("/x\r\nSet-Cookie: a=b", None),
        ] {
            assert_eq!(same_origin_path(url, h).as_deref(), want, "{url}");
        }
        assert_eq!(same_origin_path("http://a/x", None), None);
    }
}
