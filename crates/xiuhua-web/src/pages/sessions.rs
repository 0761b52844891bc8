//! Logging in and out with the session cookie.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Auth, CsrfForm, NoFields, clear_session_cookie, cookie, lang, session_cookie};
use crate::error::WebError;
use crate::i18n::T;
use crate::views::sessions::LoginPage;
use crate::views::{Layout, render};

/// Query of the login page.
#[derive(Deserialize)]
pub struct LoginQuery {
    failed: Option<String>,
    locked: Option<i64>,
}

/// GET /login
pub async fn new_form(
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Html<String>, WebError> {
    let t = T {
        lang: lang(&headers),
    };
    let lang = t.lang;
    let l = Layout::anonymous(t.clone(), t.s("login"));
    render(&LoginPage::new(l, q.failed.is_some(), q.locked), lang)
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// POST /login
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
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
