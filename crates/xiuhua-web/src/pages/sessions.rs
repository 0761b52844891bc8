//! Logging in and out with the session cookie.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{
    Auth, CsrfForm, LOGIN_CSRF_COOKIE, NoFields, clear_session_cookie, cookie, lang,
    login_csrf_cookie, same_origin_request, same_secret, session_cookie,
};
use crate::error::WebError;
use crate::i18n::T;
use crate::views::sessions::LoginPage;
use crate::views::{Layout, render};

/// Query of the login page.
#[derive(Deserialize)]
pub struct LoginQuery {
    failed: Option<String>,
    expired: Option<String>,
    locked: Option<i64>,
}

/// The login form's CSRF token: the browser's own (from its cookie) if it has one of the right
/// shape, else a new one.
fn login_token(headers: &HeaderMap) -> String {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(xiuhua_app::auth::random_token, str::to_string)
}

/// GET /login: the form, with a pre-session CSRF token in a hidden field and in a cookie (login
/// CSRF: another site cannot log the browser into an account of its choosing).
pub async fn new_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let t = T {
        lang: lang(&headers),
    };
    let lang = t.lang;
    let token = login_token(&headers);
    let mut l = Layout::anonymous(t.clone(), t.s("login"));
    l.csrf.clone_from(&token);
    let page = LoginPage::new(l, q.failed.is_some(), q.expired.is_some(), q.locked);
    Ok((
        [(
            header::SET_COOKIE,
            login_csrf_cookie(&token, state.config.secure_cookies),
        )],
        render(&page, lang)?,
    )
        .into_response())
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    /// The form's token (the same as the login CSRF cookie).
    csrf: Option<String>,
}

/// POST /login: refused (back to the form, which says so) unless the form's token matches the
/// login cookie and the request comes from this server's page.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let token_ok = same_secret(
        cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or(""),
        f.csrf.as_deref().unwrap_or(""),
    );
    if !token_ok || !same_origin_request(&headers) {
        return Ok(Redirect::to("/login?expired=1").into_response());
    }
    let client = crate::auth::client_address(&headers);
    match xiuhua_app::auth::login(&state.services, &f.username, &f.password, &client).await {
        Ok((token, _)) => Ok((
            [(
                header::SET_COOKIE,
                session_cookie(&token, state.config.secure_cookies),
            )],
            Redirect::to("/"),
        )
            .into_response()),
        Err(xiuhua_app::Error::BadCredentials) => {
            Ok(Redirect::to("/login?failed=1").into_response())
        }
        Err(xiuhua_app::Error::Locked { minutes }) => {
            Ok(Redirect::to(&format!("/login?locked={minutes}")).into_response())
        }
        Err(e) => Err(WebError::page(e, lang(&headers))),
    }
}

/// POST /logout
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    if let Some(token) = cookie(&headers, crate::auth::SESSION_COOKIE) {
        xiuhua_app::auth::logout(&state.services, token)
            .await
            .map_err(|e| WebError::page(e, auth.t.lang))?;
    }
    Ok((
        [(header::SET_COOKIE, clear_session_cookie())],
        Redirect::to("/login"),
    )
        .into_response())
}
