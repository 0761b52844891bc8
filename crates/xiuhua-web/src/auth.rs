//! Session cookie, the [`Auth`] extractor, the CSRF-checked body extractors [`CsrfForm`] and
//! [`CsrfJson`], and the language cookie.

use axum::body::{Body, Bytes};
use axum::extract::{Form, FromRequest, FromRequestParts, Json, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use xiuhua_app::CurrentUser;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::{Lang, T};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "xiuhua_session";

/// Reads a cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value that stores a session token.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}",
        xiuhua_app::auth::SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    )
}

/// Name of the login form's CSRF cookie (double submit: the form carries the same value).
pub const LOGIN_CSRF_COOKIE: &str = "xiuhua_login_csrf";

/// The `Set-Cookie` value of the login form's CSRF token: only sent back to `/login`, never to
/// another site's form (`SameSite=Strict`), unreadable by scripts.
pub fn login_csrf_cookie(token: &str, secure: bool) -> String {
    format!(
        "{LOGIN_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login; Max-Age={}{}",
        xiuhua_app::auth::SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    )
}

/// Whether two secrets are equal and non-empty (constant time in their content).
pub fn same_secret(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    !a.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a request may come from one of this server's pages: its `Origin` (or, without one,
/// its `Referer`) names this server's host (the `Host` header). A request with neither passes
/// (not a browser's cross-site request, which always carries one of them on a POST); the
/// CSRF tokens still apply.
pub fn same_origin_request(headers: &HeaderMap) -> bool {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let header = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    let authority_ok = |url: &str| {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        match (rest, host) {
            (Some(rest), Some(host)) => {
                let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                rest[..end].eq_ignore_ascii_case(host)
            }
            _ => false,
        }
    };
    match (
        header(axum::http::header::ORIGIN),
        header(axum::http::header::REFERER),
    ) {
        (Some(origin), _) => authority_ok(origin),
        (None, Some(referer)) => authority_ok(referer),
        (None, None) => true,
    }
}

/// The `Set-Cookie` value that clears the session.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

/// The UI language of a request.
pub fn lang(headers: &HeaderMap) -> Lang {
    cookie(headers, "lang").map(Lang::parse).unwrap_or_default()
}

/// The logged-in user and the page language. Pages without a session redirect to `/login`;
/// API calls get 401. The session is looked up once per request: the result is kept in the
/// request's extensions for the body extractors below.
#[derive(Clone)]
pub struct Auth {
    /// The user.
    pub user: CurrentUser,
    /// Text lookups in the user's language.
    pub t: T,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, WebError> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let json = parts.uri.path().starts_with("/api/");
        let t = T {
            lang: lang(&parts.headers),
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::Unauthenticated { json });
        };
        match xiuhua_app::auth::session_user(&state.services, token).await {
            Ok(Some(user)) => {
                crate::request_log::record_user(user.id);
                let auth = Auth { user, t };
                parts.extensions.insert(auth.clone());
                Ok(auth)
            }
            Ok(None) => Err(WebError::Unauthenticated { json }),
            Err(e) => Err(if json {
                WebError::api(e)
            } else {
                WebError::page(e, t.lang)
            }),
        }
    }
}

impl Auth {
    /// Checks a CSRF token from a form field or the `X-CSRF-Token` header (constant time).
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), WebError> {
        if same_secret(&self.user.csrf_token, given.unwrap_or("")) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

/// A form body (`application/x-www-form-urlencoded`) whose `csrf` field matched the session's
/// CSRF token. Without a session it rejects like [`Auth`]; a body that does not deserialize is
/// axum's form rejection; then a missing or wrong token is `403 csrf`. `T` need not declare the
/// `csrf` field (unknown fields are ignored).
pub struct CsrfForm<T>(pub T);

/// A form without fields of its own (logout, revoke): only the CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

/// The CSRF field of a form.
#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<CsrfForm<T>, Response> {
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let again = |bytes: &Bytes| Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        let Form(value) = Form::<T>::from_request(again(&bytes), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let given = Form::<CsrfField>::from_request(again(&bytes), state)
            .await
            .ok()
            .and_then(|Form(f)| f.csrf);
        auth.check_csrf(given.as_deref())
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfForm(value))
    }
}

/// A JSON body sent with the session's CSRF token in the `X-CSRF-Token` header. Rejections in
/// order: no session (like [`Auth`]), a body that is not the expected JSON (axum's rejection,
/// rewritten into the error envelope), then `403 csrf`.
pub struct CsrfJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<CsrfJson<T>, Response> {
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let given = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Json(value) = Json::<T>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        auth.check_csrf(given.as_deref())
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfJson(value))
    }
}

/// The client's address (access log, login lockout): the `X-Real-IP` header, which
/// [`client_address_layer`] sets to the connection's peer address — or, behind a trusted reverse
/// proxy ([`crate::WebConfig::trust_proxy_headers`]), the proxy's first `X-Forwarded-For` entry or
/// its `X-Real-IP`. Empty when unknown.
pub fn client_address(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .or_else(|| headers.get("x-real-ip").and_then(|v| v.to_str().ok()))
        .map(|v| v.trim().chars().take(64).collect())
        .unwrap_or_default()
}

/// Middleware that makes [`client_address`] trustworthy: unless the server is configured to
/// trust a reverse proxy, a client's own `X-Forwarded-For` and `X-Real-IP` are dropped and
/// `X-Real-IP` is set to the TCP peer's address, so that nobody can pick the address the
/// lockout counts failures under. (Without a peer — the in-process test router — the headers
/// stay as sent.)
pub async fn client_address_layer(
    trust_proxy_headers: bool,
    mut req: Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let (Some(ip), false) = (peer, trust_proxy_headers) {
        let h = req.headers_mut();
        h.remove("x-forwarded-for");
        if let Ok(v) = axum::http::HeaderValue::from_str(&ip.to_string()) {
            h.insert("x-real-ip", v);
        }
    }
    next.run(req).await
}
