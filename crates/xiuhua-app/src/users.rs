//! User management by administrators, own password changes, and API tokens for departments'
//! data pushes.
//!
//! An administrator manages the accounts inside their own region: the system administrator
//! (empty region) everyone, a county administrator (`admin` with a county code) the county's
//! users, never an account above their own scope. Every change is written to the access log.
//! Deactivating an account or resetting its password ends its sessions at once.
//!
//! **API tokens** let a department's system push data without a person's session: a token
//! is bound to one department and one region, allows only the department-data push (no reads
//! of the registry), expires, can be revoked, and is shown once (only its SHA-256 is stored).

use chrono::Duration;
use xiuhua_db::events::format_ts;
use xiuhua_db::users::{TokenRow, UserRow};
use xiuhua_domain::message::msg;

use crate::auth::{
    Role, check_password_policy, hash_password, random_token, sha256_hex, verify_password,
};
use crate::{CurrentUser, Error, Result, Services};

/// A user account as administrators see it (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Region scope.
    pub region_code: String,
    /// Whether the account may log in.
    pub active: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
}

impl UserView {
    fn of(u: &UserRow) -> UserView {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: Role::parse(&u.role).unwrap_or(Role::Viewer),
            region_code: u.region_code.clone(),
            active: u.is_active == 1,
            created_at: u.created_at.clone(),
        }
    }
}

/// Changes to an account (all fields replace the stored ones).
#[derive(Clone, Debug)]
pub struct UserUpdate {
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Region scope.
    pub region_code: String,
    /// Whether the account may log in.
    pub active: bool,
}

/// Refuses unless `by` is an administrator.
fn require_admin(by: &CurrentUser) -> Result<()> {
    if by.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden("only administrators manage users".into()))
    }
}

/// Refuses a scope (region and role) that `by` may not hand out: outside their region, or a
/// system-wide administrator made by a regional one.
pub(crate) fn check_grant(by: &CurrentUser, role: Role, region: &str) -> Result<()> {
    require_admin(by)?;
    let inside = by.region_code.is_empty() || region.starts_with(&by.region_code);
    if !inside || (region.is_empty() && !by.region_code.is_empty()) {
        return Err(Error::Forbidden(format!(
            "region {region:?} lies outside your region {:?}",
            by.region_code
        )));
    }
    if region.is_empty() && role != Role::Admin {
        return Err(Error::invalid(
            "用户",
            "region_code",
            "region_required",
            msg("region_required"),
        ));
    }
    Ok(())
}

/// The accounts `by` manages (inside their region), by name.
pub async fn list(s: &Services, by: &CurrentUser) -> Result<Vec<UserView>> {
    require_admin(by)?;
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::users::list(&mut conn)
        .await?
        .iter()
        .filter(|u| by.region_code.is_empty() || u.region_code.starts_with(&by.region_code))
        .filter(|u| !u.region_code.is_empty() || by.region_code.is_empty())
        .map(UserView::of)
        .collect())
}

/// One account `by` manages.
pub async fn get(s: &Services, by: &CurrentUser, id: i64) -> Result<UserView> {
    list(s, by)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| Error::NotFound {
            what: format!("user {id}"),
        })
}

/// Changes an account's name, role, region or active flag.
pub async fn update(
    s: &Services,
    by: &CurrentUser,
    id: i64,
    u: &UserUpdate,
    client: &str,
) -> Result<UserView> {
    let before = get(s, by, id).await?;
    check_grant(by, u.role, &u.region_code)?;
    check_update(by, id, u)?;
    let mut tx = s.db.begin().await?;
    xiuhua_db::users::update(
        &mut tx,
        id,
        u.display_name.trim(),
        u.role.as_str(),
        &u.region_code,
        i16::from(u.active),
    )
    .await?;
    if !u.active || u.role != before.role || u.region_code != before.region_code {
        // A narrower or revoked account must not keep working through an open session.
        xiuhua_db::users::delete_sessions_of(&mut tx, id).await?;
    }
    xiuhua_db::commit(tx).await?;
    let detail = format!(
        "{} {}→{} {}→{} active {}→{}",
        u.display_name,
        before.role.as_str(),
        u.role.as_str(),
        before.region_code,
        u.region_code,
        before.active,
        u.active
    );
    crate::audit::record(
        s,
        &by.username,
        crate::audit::AuditAction::UserUpdate,
        &before.username,
        &detail,
        client,
    )
    .await?;
    get(s, by, id).await
}

/// Refuses an update that would deactivate or narrow the administrator's own account, or
/// clear the shown name.
fn check_update(by: &CurrentUser, id: i64, u: &UserUpdate) -> Result<()> {
    if id == by.id && (!u.active || u.role != Role::Admin || u.region_code != by.region_code) {
        return Err(Error::conflict("own_account", msg("own_account")));
    }
    if u.display_name.trim().is_empty() {
        return Err(Error::invalid(
            "用户",
            "display_name",
            "required",
            msg("display_name_required"),
        ));
    }
    Ok(())
}

/// Creates an account inside `by`'s region (see [`crate::auth::create_user`] for the checks)
/// and records it in the access log. Returns the new account's id.
pub async fn create(
    s: &Services,
    by: &CurrentUser,
    new: crate::auth::NewUser,
    client: &str,
) -> Result<i64> {
    let (name, role) = (new.username.clone(), new.role);
    let id = crate::auth::create_user(s, by, new).await?;
    crate::audit::record(
        s,
        &by.username,
        crate::audit::AuditAction::UserCreate,
        &name,
        role.as_str(),
        client,
    )
    .await?;
    Ok(id)
}

/// Sets a new password for an account `by` manages and ends its sessions.
pub async fn reset_password(
    s: &Services,
    by: &CurrentUser,
    id: i64,
    password: &str,
    client: &str,
) -> Result<()> {
    let u = get(s, by, id).await?;
    check_password_policy(&u.username, password)?;
    let mut tx = s.db.begin().await?;
    xiuhua_db::users::set_password(&mut tx, id, &hash_password(password)?).await?;
    xiuhua_db::users::delete_sessions_of(&mut tx, id).await?;
    xiuhua_db::commit(tx).await?;
    crate::audit::record(
        s,
        &by.username,
        crate::audit::AuditAction::PasswordReset,
        &u.username,
        "",
        client,
    )
    .await
}

/// Changes the logged-in user's own password (the current one is required); other sessions of
/// the account end, the current one stays.
pub async fn change_own_password(
    s: &Services,
    user: &CurrentUser,
    current: &str,
    new: &str,
    client: &str,
) -> Result<()> {
    let mut conn = s.db.acquire().await?;
    let row = xiuhua_db::users::find_by_username(&mut conn, &user.username)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: format!("user {}", user.username),
        })?;
    drop(conn);
    if !verify_password(current, &row.password_hash) {
        crate::audit::login_failed(s, &user.username, client).await?;
        return Err(Error::invalid(
            "用户",
            "current_password",
            "wrong_password",
            msg("wrong_password"),
        ));
    }
    check_password_policy(&user.username, new)?;
    if new == current {
        return Err(Error::invalid(
            "用户",
            "password",
            "same_password",
            msg("same_password"),
        ));
    }
    let mut tx = s.db.begin().await?;
    xiuhua_db::users::set_password(&mut tx, row.id, &hash_password(new)?).await?;
    xiuhua_db::users::delete_other_sessions(&mut tx, row.id, &user.csrf_token).await?;
    xiuhua_db::commit(tx).await?;
    crate::audit::record(
        s,
        &user.username,
        crate::audit::AuditAction::PasswordChange,
        &user.username,
        "",
        client,
    )
    .await
}

/// Departments that push data (部门): code, Chinese name, English name.
pub const DEPARTMENTS: &[(&str, &str, &str)] = &[
    ("medical_insurance", "医保", "Medical insurance"),
    ("civil_affairs", "民政", "Civil affairs"),
    ("education", "教育", "Education"),
    ("housing", "住建", "Housing"),
    ("water", "水利", "Water resources"),
    ("disabled_persons", "残联", "Disabled persons' federation"),
    ("human_resources", "人社", "Human resources"),
    ("health", "卫健", "Health"),
    ("emergency", "应急管理", "Emergency management"),
    ("agriculture", "农业农村", "Agriculture"),
    ("public_security", "公安", "Public security"),
];

/// Chinese name of a department code.
pub fn department_name(code: &str) -> Option<&'static str> {
    DEPARTMENTS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, n, _)| *n)
}

/// English name of a department code.
pub fn department_name_en(code: &str) -> Option<&'static str> {
    DEPARTMENTS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, _, n)| *n)
}

/// The only thing a token may do.
pub const SCOPE_DEPARTMENT_PUSH: &str = "department_push";

/// A token as administrators see it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenView {
    /// Id.
    pub id: i64,
    /// What it is for (e.g. 县医保局每月推送).
    pub name: String,
    /// Department code.
    pub department: String,
    /// Region the pushed data may concern.
    pub region_code: String,
    /// Scope (always [`SCOPE_DEPARTMENT_PUSH`]).
    pub scope: String,
    /// Who created it.
    pub created_by: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// RFC 3339 UTC, if revoked.
    pub revoked_at: Option<String>,
    /// RFC 3339 UTC of the last push.
    pub last_used_at: Option<String>,
}

impl TokenView {
    fn of(t: &TokenRow) -> TokenView {
        TokenView {
            id: t.id,
            name: t.name.clone(),
            department: t.department.clone(),
            region_code: t.region_code.clone(),
            scope: t.scope.clone(),
            created_by: t.created_by.clone(),
            created_at: t.created_at.clone(),
            expires_at: t.expires_at.clone(),
            revoked_at: t.revoked_at.clone(),
            last_used_at: t.last_used_at.clone(),
        }
    }

    /// Whether the token can be used at `now` (RFC 3339).
    pub fn usable_at(&self, now: &str) -> bool {
        self.revoked_at.is_none() && self.expires_at.as_str() > now
    }
}

/// Prefix of every token, so that a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "xht_";

/// Creates a department-push token valid for `days` days; returns it with its secret, which
/// is shown this once.
pub async fn create_token(
    s: &Services,
    by: &CurrentUser,
    name: &str,
    department: &str,
    region_code: &str,
    days: i64,
    client: &str,
) -> Result<(TokenView, String)> {
    check_grant(by, Role::Viewer, region_code)?;
    if department_name(department).is_none() {
        return Err(Error::invalid(
            "令牌",
            "department",
            "unknown_department",
            msg("unknown_department").arg("department", department),
        ));
    }
    if name.trim().is_empty() || !(1..=366).contains(&days) {
        return Err(Error::invalid(
            "令牌",
            "name",
            "required",
            msg("required_token_needs_name_validity_days"),
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_token());
    let now = s.clock.now();
    let mut tx = s.db.begin().await?;
    let id = xiuhua_db::ids::reserve(&mut tx, "api_token", 1, 1).await?;
    let row = TokenRow {
        id,
        token_hash: sha256_hex(&secret),
        name: name.trim().to_string(),
        scope: SCOPE_DEPARTMENT_PUSH.into(),
        department: department.into(),
        region_code: region_code.into(),
        created_by: by.username.clone(),
        created_at: format_ts(now),
        expires_at: format_ts(now + Duration::days(days)),
        revoked_at: None,
        last_used_at: None,
    };
    xiuhua_db::users::insert_token(&mut tx, &row).await?;
    xiuhua_db::commit(tx).await?;
    crate::audit::record(
        s,
        &by.username,
        crate::audit::AuditAction::TokenCreate,
        &format!("token {id}"),
        &format!("{department} {region_code} {days}d {}", row.name),
        client,
    )
    .await?;
    Ok((TokenView::of(&row), secret))
}

/// The tokens inside `by`'s region, newest first.
pub async fn list_tokens(s: &Services, by: &CurrentUser) -> Result<Vec<TokenView>> {
    require_admin(by)?;
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::users::list_tokens(&mut conn)
        .await?
        .iter()
        .filter(|t| t.region_code.starts_with(&by.region_code))
        .map(TokenView::of)
        .collect())
}

/// Revokes a token at once.
pub async fn revoke_token(s: &Services, by: &CurrentUser, id: i64, client: &str) -> Result<()> {
    let t = list_tokens(s, by)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| Error::NotFound {
            what: format!("token {id}"),
        })?;
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::users::revoke_token(&mut conn, id, &format_ts(s.clock.now())).await?;
    drop(conn);
    crate::audit::record(
        s,
        &by.username,
        crate::audit::AuditAction::TokenRevoke,
        &format!("token {id}"),
        &t.name,
        client,
    )
    .await
}

/// The identity behind a department token: what it may push, and for where. Unknown, expired
/// and revoked tokens all give `None`.
pub async fn token_identity(s: &Services, secret: &str) -> Result<Option<TokenView>> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let mut conn = s.db.acquire().await?;
    let now = format_ts(s.clock.now());
    let Some(row) = xiuhua_db::users::find_token(&mut conn, &sha256_hex(secret)).await? else {
        return Ok(None);
    };
    let t = TokenView::of(&row);
    if !t.usable_at(&now) {
        return Ok(None);
    }
    drop(conn);
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::users::touch_token(&mut conn, t.id, &now).await?;
    Ok(Some(t))
}
