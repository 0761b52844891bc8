//! Administration pages: user accounts (list, create, edit, reset password), one's own password,
//! API tokens for department pushes, the pushed department batches; and the token-authenticated
//! push endpoint `POST /api/v1/department-data`.

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xiuhua_app::Role;
use xiuhua_app::departments::{self, PushError};
use xiuhua_app::users::{self, DEPARTMENTS, TokenView, UserUpdate, UserView};

use crate::AppState;
use crate::auth::{Auth, CsrfForm, NoFields, client_address};
use crate::error::{ErrorEnvelope, WebError};
use crate::i18n::Lang;
use crate::pages::{Layout, render};

fn roles(auth: &Auth) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| {
            (
                r.as_str(),
                if auth.t.lang == Lang::Zh {
                    r.label_zh()
                } else {
                    r.as_str()
                },
            )
        })
        .collect()
}

/// The message of an app error in the page language, for errors shown next to a form.
fn form_message(e: &xiuhua_app::Error, lang: Lang) -> Option<String> {
    match e {
        xiuhua_app::Error::Invalid(_)
        | xiuhua_app::Error::Conflict { .. }
        | xiuhua_app::Error::Forbidden(_) => Some(if lang == Lang::Zh {
            e.message_zh()
        } else {
            e.to_string()
        }),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<UserView>,
    roles: Vec<(&'static str, &'static str)>,
    own_region: String,
    message: String,
    error: bool,
}

async fn users_page(
    state: &AppState,
    auth: &Auth,
    message: String,
    error: bool,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let list = users::list(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    render(
        &UsersPage {
            l: Layout::new(auth, auth.t.s("users")),
            users: list,
            roles: roles(auth),
            own_region: auth.user.region_code.clone(),
            message,
            error,
        },
        lang,
    )
}

/// The accounts an administrator manages, and the form for a new one.
pub async fn users_list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Html<String>, WebError> {
    users_page(&state, &auth, String::new(), false).await
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
pub async fn user_create(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<NewUserForm>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let new = xiuhua_app::auth::NewUser {
        username: f.username.trim().to_string(),
        password: f.password,
        display_name: f.display_name.trim().to_string(),
        role: Role::parse(&f.role).unwrap_or(Role::Viewer),
        region_code: f.region_code.trim().to_string(),
    };
    match users::create(&state.services, &auth.user, new, &client_address(&headers)).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => match form_message(&e, lang) {
            Some(m) => Ok(users_page(&state, &auth, m, true).await?.into_response()),
            None => Err(WebError::page(e, lang)),
        },
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    l: Layout,
    u: UserView,
    roles: Vec<(&'static str, &'static str)>,
    message: String,
    error: bool,
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
    render(
        &UserPage {
            l: Layout::new(auth, u.username.clone()),
            u,
            roles: roles(auth),
            message,
            error,
        },
        lang,
    )
}

/// One account's edit and password-reset forms.
pub async fn user_show(
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
pub async fn user_update(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<EditUserForm>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let u = UserUpdate {
        display_name: f.display_name,
        role: Role::parse(&f.role).unwrap_or(Role::Viewer),
        region_code: f.region_code.trim().to_string(),
        active: f.active.is_some(),
    };
    match users::update(
        &state.services,
        &auth.user,
        id,
        &u,
        &client_address(&headers),
    )
    .await
    {
        Ok(_) => Ok(
            user_page(&state, &auth, id, auth.t.s("saved").into(), false)
                .await?
                .into_response(),
        ),
        Err(e) => match form_message(&e, lang) {
            Some(m) => Ok(user_page(&state, &auth, id, m, true).await?.into_response()),
            None => Err(WebError::page(e, lang)),
        },
    }
}

/// A password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    /// The current password (own change only).
    current: Option<String>,
    password: String,
}

/// Sets a new password for an account (administrators); its sessions end.
pub async fn user_reset_password(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    match users::reset_password(
        &state.services,
        &auth.user,
        id,
        &f.password,
        &client_address(&headers),
    )
    .await
    {
        Ok(()) => Ok(
            user_page(&state, &auth, id, auth.t.s("password_set").into(), false)
                .await?
                .into_response(),
        ),
        Err(e) => match form_message(&e, lang) {
            Some(m) => Ok(user_page(&state, &auth, id, m, true).await?.into_response()),
            None => Err(WebError::page(e, lang)),
        },
    }
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    l: Layout,
    message: String,
    error: bool,
}

/// The own-password form (every user).
pub async fn password_form(auth: Auth) -> Result<Html<String>, WebError> {
    render(
        &PasswordPage {
            l: Layout::new(&auth, auth.t.s("change_password")),
            message: String::new(),
            error: false,
        },
        auth.t.lang,
    )
}

/// Changes the user's own password.
pub async fn password_change(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let result = users::change_own_password(
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
    render(
        &PasswordPage {
            l: Layout::new(&auth, auth.t.s("change_password")),
            message,
            error,
        },
        lang,
    )
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    l: Layout,
    tokens: Vec<(TokenView, &'static str)>,
    departments: &'static [(&'static str, &'static str)],
    own_region: String,
    secret: String,
    message: String,
}

async fn tokens_page(
    state: &AppState,
    auth: &Auth,
    secret: String,
    message: String,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let tokens = users::list_tokens(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, lang))?
        .into_iter()
        .map(|t| {
            let d = users::department_name(&t.department).unwrap_or("");
            (t, d)
        })
        .collect();
    render(
        &TokensPage {
            l: Layout::new(auth, auth.t.s("api_tokens")),
            tokens,
            departments: DEPARTMENTS,
            own_region: auth.user.region_code.clone(),
            secret,
            message,
        },
        lang,
    )
}

/// Department-push tokens and the form for a new one.
pub async fn tokens_list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Html<String>, WebError> {
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
pub async fn token_create(
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
pub async fn token_revoke(
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

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    l: Layout,
    batches: Vec<(departments::Batch, &'static str)>,
}

/// Department batches received for the user's region (county staff).
pub async fn department_batches(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let batches = departments::batches(&state.services, &auth.user, 200)
        .await
        .map_err(|e| WebError::page(e, lang))?
        .into_iter()
        .map(|b| {
            let d = users::department_name(&b.department).unwrap_or("");
            (b, d)
        })
        .collect();
    render(
        &DepartmentsPage {
            l: Layout::new(&auth, auth.t.s("department_data")),
            batches,
        },
        lang,
    )
}

/// Query of a department push.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PushQuery {
    /// The file's name (kept with the batch; `.xlsx`, `.xls` or `.csv`).
    pub file_name: Option<String>,
}

/// What a push stored.
#[derive(Serialize, ToSchema)]
pub struct PushResponse {
    /// Batch id.
    pub batch_id: i64,
    /// Data rows stored.
    pub rows: i64,
    /// Rows whose person is a registered household member in the token's region.
    pub matched: i64,
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
    body: Bytes,
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
    let file_name = q.file_name.unwrap_or_else(|| "push".into());
    match departments::push(&state.services, &token, &file_name, &body).await {
        Ok(r) => Ok(Json(PushResponse {
            batch_id: r.batch_id,
            rows: r.rows,
            matched: r.matched,
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
                        format!("{}：{}", p.value, p.reason_zh),
                        format!("row {} {:?}: {}", p.row, p.value, p.reason_en),
                    )
                })
                .collect(),
        ))),
        Err(e) => Err(WebError::api(xiuhua_app::Error::invalid(
            &file_name,
            "file",
            "unreadable",
            e.message_zh(),
            e.to_string(),
        ))),
    }
}
