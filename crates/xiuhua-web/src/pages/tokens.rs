//! API tokens for department pushes: the list and new-token form (the secret is shown once),
//! and revoking a token.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use xiuhua_app::users;

use super::form_message;
use crate::AppState;
use crate::auth::{Auth, CsrfForm, NoFields, client_address};
use crate::error::WebError;
use crate::views::admin::TokensPage;
use crate::views::{Layout, render};

async fn tokens_page(
    state: &AppState,
    auth: &Auth,
    secret: String,
    message: String,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let tokens = users::list_tokens(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(auth, auth.t.s("api_tokens"));
    let own_region = auth.user.region_code.clone();
    render(
        &TokensPage::new(l, tokens, own_region, secret, message),
        lang,
    )
}

/// Department-push tokens and the form for a new one.
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Html<String>, WebError> {
    tokens_page(&state, &auth, String::new(), String::new()).await
}

/// The new-token form.
#[derive(Deserialize)]
pub struct NewTokenForm {
    name: String,
    department: String,
    region_code: String,
    days: Option<i64>,
}

/// Creates a token and shows its secret once.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<NewTokenForm>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    match users::create_token(
        &state.services,
        &auth.user,
        &f.name,
        &f.department,
        f.region_code.trim(),
        f.days.unwrap_or(90),
        &client_address(&headers),
    )
    .await
    {
        Ok((_, secret)) => tokens_page(&state, &auth, secret, String::new()).await,
        Err(e) => match form_message(&e, lang) {
            Some(m) => tokens_page(&state, &auth, String::new(), m).await,
            None => Err(WebError::page(e, lang)),
        },
    }
}

/// Revokes a token.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    users::revoke_token(&state.services, &auth.user, id, &client_address(&headers))
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    Ok(Redirect::to("/admin/tokens").into_response())
}
