//! Accounts, for administrators: the list and new-account form, one account's edit form, and
//! a password reset (which ends the account's sessions).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use xiuhua_app::Role;
use xiuhua_app::users::{self, UserUpdate};

use super::form_message;
use crate::AppState;
use crate::auth::{Auth, CsrfForm, client_address};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::views::admin::{NewUserValues, UserPage, UsersPage};
use crate::views::{Layout, render};

async fn users_page(
    state: &AppState,
    auth: &Auth,
    form: NewUserValues,
    message: String,
    error: bool,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let list = users::list(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let regions = xiuhua_app::regions::assignable(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(auth, auth.t.s("users"));
    let own = auth.user.region_code.as_str();
    render(
        &UsersPage::new(l, list, &regions, own, form, message, error),
        lang,
    )
}

/// The accounts an administrator manages, and the form for a new one.
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Html<String>, WebError> {
    let form = NewUserValues::empty(&auth.user.region_code);
    users_page(&state, &auth, form, String::new(), false).await
}

/// The message of a refused account change, in the page language: for invalid input only the
/// reasons ("密码太短：至少需要 10 个字符"), not the record and field names.
fn refusal(e: &xiuhua_app::Error, lang: Lang) -> Option<String> {
    match e {
        xiuhua_app::Error::Invalid(errs) => Some(
            errs.iter()
                .map(|f| {
                    if lang == Lang::Zh {
                        f.message_zh()
                    } else {
                        f.message_en()
                    }
                })
                .collect::<Vec<_>>()
                .join(if lang == Lang::Zh { "；" } else { "; " }),
        ),
        other => form_message(other, lang),
    }
}

/// The new-account form.
#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    region_code: String,
    password: String,
}

/// Creates an account.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<NewUserForm>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let values = NewUserValues {
        username: f.username.trim().to_string(),
        display_name: f.display_name.trim().to_string(),
        role: f.role.clone(),
        region_code: f.region_code.trim().to_string(),
    };
    let new = xiuhua_app::auth::NewUser {
        username: values.username.clone(),
        password: f.password,
        display_name: values.display_name.clone(),
        role: Role::parse(&f.role).unwrap_or(Role::Viewer),
        region_code: values.region_code.clone(),
    };
    match users::create(&state.services, &auth.user, new, &client_address(&headers)).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => match refusal(&e, lang) {
            Some(m) => Ok(users_page(&state, &auth, values, m, true)
                .await?
                .into_response()),
            None => Err(WebError::page(e, lang)),
        },
    }
}

async fn user_page(
    state: &AppState,
    auth: &Auth,
    id: i64,
    message: String,
    error: bool,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let u = users::get(&state.services, &auth.user, id)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let lockouts = xiuhua_app::audit::lockouts(&state.services, &auth.user, id)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let regions = xiuhua_app::regions::assignable(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(auth, u.username.clone());
    let own = auth.user.region_code.as_str();
    render(
        &UserPage::new(l, u, &regions, own, lockouts, message, error),
        lang,
    )
}

/// After a change of account `id`: its page with `done` on success, the refusal next to the
/// form, or the error page.
async fn after_change<T>(
    state: &AppState,
    auth: &Auth,
    id: i64,
    result: Result<T, xiuhua_app::Error>,
    done: &str,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    match result {
        Ok(_) => Ok(user_page(state, auth, id, done.into(), false)
            .await?
            .into_response()),
        Err(e) => match refusal(&e, lang) {
            Some(m) => Ok(user_page(state, auth, id, m, true).await?.into_response()),
            None => Err(WebError::page(e, lang)),
        },
    }
}

/// One account's edit and password-reset forms.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    user_page(&state, &auth, id, String::new(), false).await
}

/// The account edit form.
#[derive(Deserialize)]
pub struct EditUserForm {
    display_name: String,
    role: String,
    region_code: String,
    active: Option<String>,
}

/// Saves an account's name, role, region and active flag.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<EditUserForm>,
) -> Result<Response, WebError> {
    let u = UserUpdate {
        display_name: f.display_name,
        role: Role::parse(&f.role).unwrap_or(Role::Viewer),
        region_code: f.region_code.trim().to_string(),
        active: f.active.is_some(),
    };
    let client = client_address(&headers);
    let result = users::update(&state.services, &auth.user, id, &u, &client).await;
    after_change(&state, &auth, id, result, auth.t.s("saved")).await
}

/// A password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    /// The current password (own change only).
    pub(crate) current: Option<String>,
    pub(crate) password: String,
}

/// Sets a new password for an account (administrators); its sessions end.
pub async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let client = client_address(&headers);
    let result = users::reset_password(&state.services, &auth.user, id, &f.password, &client).await;
    after_change(&state, &auth, id, result, auth.t.s("password_set")).await
}

/// Lifts an account's login lockouts (from every address); the access log records it.
pub async fn unlock(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::auth::NoFields>,
) -> Result<Response, WebError> {
    let client = client_address(&headers);
    let result = xiuhua_app::audit::unlock(&state.services, &auth.user, id, &client).await;
    after_change(&state, &auth, id, result, auth.t.s("unlocked")).await
}
