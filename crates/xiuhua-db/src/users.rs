//! The `users` and `sessions` tables.

use sqlx::AnyConnection;

use crate::{Error, Result};

/// A stored user.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role (storage form).
    pub role: String,
    /// Region the user may see and edit (and everything inside it).
    pub region_code: String,
    /// 1 if the account may log in.
    pub is_active: i16,
    /// RFC 3339 UTC.
    pub created_at: String,
}

const COLS: &str =
    "id, username, password_hash, display_name, role, region_code, is_active, created_at";

/// Inserts a user; [`Error::Conflict`] if the name is taken.
pub async fn insert(conn: &mut AnyConnection, u: &UserRow) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )))
    .bind(u.id)
    .bind(u.username.clone())
    .bind(u.password_hash.clone())
    .bind(u.display_name.clone())
    .bind(u.role.clone())
    .bind(u.region_code.clone())
    .bind(u.is_active)
    .bind(u.created_at.clone())
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets a user's password hash.
pub async fn set_password(conn: &mut AnyConnection, id: i64, hash: &str) -> Result<()> {
    let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    if n == 1 { Ok(()) } else { Err(Error::NotFound) }
}

/// The user with this login name.
pub async fn find_by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<UserRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM users WHERE username = $1"
    )))
    .bind(username)
    .fetch_optional(conn)
    .await?)
}

/// All users, by name.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<UserRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM users ORDER BY username"
    )))
    .fetch_all(conn)
    .await?)
}

/// Number of users.
pub async fn count(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await?)
}

/// Next free user id.
pub async fn next_id(conn: &mut AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM users")
            .fetch_one(conn)
            .await?,
    )
}

/// A stored session.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// SHA-256 of the cookie token (the token itself is never stored).
    pub token_hash: String,
    /// Owner.
    pub user_id: i64,
    /// CSRF token bound to the session.
    pub csrf_token: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
}

/// Stores a session.
pub async fn insert_session(conn: &mut AnyConnection, s: &SessionRow) -> Result<()> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(s.token_hash.clone())
        .bind(s.user_id)
        .bind(s.csrf_token.clone())
        .bind(s.created_at.clone())
        .bind(s.expires_at.clone())
        .execute(conn)
        .await?;
    Ok(())
}

/// A live session (not expired at `now`) and its active user.
pub async fn find_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: &str,
) -> Result<Option<(SessionRow, UserRow)>> {
    let Some(s): Option<SessionRow> = sqlx::query_as(
        "SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let u: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM users WHERE id = $1 AND is_active = 1"
    )))
    .bind(s.user_id)
    .fetch_optional(conn)
    .await?;
    Ok(u.map(|u| (s, u)))
}

/// Deletes a session (logout).
pub async fn delete_session(conn: &mut AnyConnection, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes expired sessions.
pub async fn purge_sessions(conn: &mut AnyConnection, now: &str) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Changes a user's name, role, region and active flag.
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    display_name: &str,
    role: &str,
    region_code: &str,
    is_active: i16,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE users SET display_name = $1, role = $2, region_code = $3, is_active = $4 WHERE id = $5",
    )
    .bind(display_name)
    .bind(role)
    .bind(region_code)
    .bind(is_active)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    if n == 1 { Ok(()) } else { Err(Error::NotFound) }
}

/// Ends every session of a user.
pub async fn delete_sessions_of(conn: &mut AnyConnection, user_id: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Ends every session of a user except the one with this CSRF token (the caller's own).
pub async fn delete_other_sessions(
    conn: &mut AnyConnection,
    user_id: i64,
    keep_csrf: &str,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND csrf_token <> $2")
            .bind(user_id)
            .bind(keep_csrf)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// A stored API token (only the hash of its secret).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    /// Id.
    pub id: i64,
    /// SHA-256 of the secret.
    pub token_hash: String,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub scope: String,
    /// Department code.
    pub department: String,
    /// Region the pushed data may concern.
    pub region_code: String,
    /// Who created it.
    pub created_by: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// RFC 3339 UTC, if revoked.
    pub revoked_at: Option<String>,
    /// RFC 3339 UTC of the last use.
    pub last_used_at: Option<String>,
}

const TOKEN_COLS: &str = "id, token_hash, name, scope, department, region_code, created_by, created_at, expires_at, revoked_at, last_used_at";

/// Stores a token.
pub async fn insert_token(conn: &mut AnyConnection, t: &TokenRow) -> Result<()> {
    crate::sql::insert_rows(
        conn,
        &format!("INSERT INTO api_tokens ({TOKEN_COLS})"),
        "",
        vec![vec![
            t.id.into(),
            t.token_hash.clone().into(),
            t.name.clone().into(),
            t.scope.clone().into(),
            t.department.clone().into(),
            t.region_code.clone().into(),
            t.created_by.clone().into(),
            t.created_at.clone().into(),
            t.expires_at.clone().into(),
            t.revoked_at.clone().into(),
            t.last_used_at.clone().into(),
        ]],
    )
    .await?;
    Ok(())
}

/// All tokens, newest first.
pub async fn list_tokens(conn: &mut AnyConnection) -> Result<Vec<TokenRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLS} FROM api_tokens ORDER BY id DESC"
    )))
    .fetch_all(conn)
    .await?)
}

/// The token with this secret hash.
pub async fn find_token(conn: &mut AnyConnection, token_hash: &str) -> Result<Option<TokenRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// Marks a token revoked.
pub async fn revoke_token(conn: &mut AnyConnection, id: i64, at: &str) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the last use of a token.
pub async fn touch_token(conn: &mut AnyConnection, id: i64, at: &str) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
