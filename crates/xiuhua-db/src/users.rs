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
