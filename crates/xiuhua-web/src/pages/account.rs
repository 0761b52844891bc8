//! The user's own account: the password form (every user).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;

use super::form_message;
use super::users::PasswordForm;
use crate::AppState;
use crate::auth::{Auth, CsrfForm, client_address};
use crate::error::WebError;
use crate::views::admin::PasswordPage;
use crate::views::{Layout, render};

/// The own-password form.
pub async fn edit_form(auth: Auth) -> Result<Html<String>, WebError> {
    let l = Layout::new(&auth, auth.t.s("change_password"));
    render(&PasswordPage::new(l, String::new(), false), auth.t.lang)
}

/// Changes the user's own password.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let result = xiuhua_app::users::change_own_password(
        &state.services,
        &auth.user,
        f.current.as_deref().unwrap_or(""),
        &f.password,
        &client_address(&headers),
    )
    .await;
    let (message, error) = match result {
        Ok(()) => (auth.t.s("password_set").to_string(), false),
        Err(e) => match form_message(&e, lang) {
            Some(m) => (m, true),
            None => return Err(WebError::page(e, lang)),
        },
    };
    let l = Layout::new(&auth, auth.t.s("change_password"));
    render(&PasswordPage::new(l, message, error), lang)
}
