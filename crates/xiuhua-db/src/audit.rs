//! Login failures and the access log.

use sqlx::AnyConnection;

use crate::Result;
use crate::sql::Sql;

/// Records a failed login.
pub async fn insert_login_failure(
    conn: &mut AnyConnection,
    username: &str,
    at: &str,
    client: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (username, failed_at, client) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(at)
        .bind(client)
        .execute(conn)
        .await?;
    Ok(())
}

/// Times (RFC 3339, oldest first) of a user's failed logins from one client address since
/// `since`.
pub async fn login_failures_since(
    conn: &mut AnyConnection,
    username: &str,
    client: &str,
    since: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT failed_at FROM login_failures WHERE username = $1 AND client = $2 AND failed_at >= $3 ORDER BY failed_at",
    )
    .bind(username)
    .bind(client)
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// Forgets a user's failed logins: from one client address (after a successful login there), or
/// from all (`None`: an administrator's unlock). Returns how many were forgotten.
pub async fn clear_login_failures(
    conn: &mut AnyConnection,
    username: &str,
    client: Option<&str>,
) -> Result<u64> {
    let done = match client {
        Some(c) => {
            sqlx::query("DELETE FROM login_failures WHERE username = $1 AND client = $2")
                .bind(username)
                .bind(c)
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM login_failures WHERE username = $1")
                .bind(username)
                .execute(conn)
                .await?
        }
    };
    Ok(done.rows_affected())
}

/// Client addresses with failed logins of a user since `since`, with how many each.
pub async fn login_failure_sources(
    conn: &mut AnyConnection,
    username: &str,
    since: &str,
) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT client, COUNT(*) FROM login_failures WHERE username = $1 AND failed_at >= $2 GROUP BY client ORDER BY client",
    )
    .bind(username)
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// One access-log entry.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessRow {
    /// Id.
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// Who.
    pub username: String,
    /// What: `login`, `login_failed`, `login_locked`, `view_personal`, `export`, `load_rules` …
    pub action: String,
    /// On what: a household id, a region code, a file, a rule set.
    pub target: String,
    /// Details (why, filters, counts).
    pub detail: String,
    /// The client address, when known.
    pub client: String,
}

const COLS: &str = "id, at, username, action, target, detail, client";

/// Appends an entry.
pub async fn insert_access(conn: &mut AnyConnection, r: &AccessRow) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO access_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )))
    .bind(r.id)
    .bind(&r.at)
    .bind(&r.username)
    .bind(&r.action)
    .bind(&r.target)
    .bind(&r.detail)
    .bind(&r.client)
    .execute(conn)
    .await?;
    Ok(())
}

/// What to look for in the access log (all filters optional).
#[derive(Clone, Debug, Default)]
pub struct AccessFilter {
    /// Exact user name.
    pub username: Option<String>,
    /// Exact target (household id, region code …).
    pub target: Option<String>,
    /// Exact action.
    pub action: Option<String>,
    /// From this time (inclusive, RFC 3339 or a date).
    pub since: Option<String>,
    /// Before this time (exclusive).
    pub until: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// Entries matching the filter, newest first.
pub async fn search_access(conn: &mut AnyConnection, f: &AccessFilter) -> Result<Vec<AccessRow>> {
    search_access_within(conn, f, None, 0).await
}

/// Entries matching the filter, newest first, skipping the first `offset`; with `within` (a
/// region-code prefix) only entries by an account of that region or about a target inside it
/// (a household id, which begins with its county's code, or a region code).
pub async fn search_access_within(
    conn: &mut AnyConnection,
    f: &AccessFilter,
    within: Option<&str>,
    offset: i64,
) -> Result<Vec<AccessRow>> {
    let mut sql = Sql::new(&format!("SELECT {COLS} FROM access_log WHERE 1 = 1"));
    if let Some(u) = &f.username {
        sql.push(" AND username = ").bind(u.clone());
    }
    if let Some(t) = &f.target {
        sql.push(" AND target = ").bind(t.clone());
    }
    if let Some(a) = &f.action {
        sql.push(" AND action = ").bind(a.clone());
    }
    if let Some(s) = &f.since {
        sql.push(" AND at >= ").bind(s.clone());
    }
    if let Some(u) = &f.until {
        sql.push(" AND at < ").bind(u.clone());
    }
    if let Some(w) = within {
        let prefix = format!("{}%", crate::sql::like_escape(w));
        sql.push(" AND (username IN (SELECT username FROM users WHERE region_code LIKE ")
            .bind(prefix.clone())
            .push(crate::sql::LIKE_ESCAPE)
            .push(") OR target LIKE ")
            .bind(prefix)
            .push(crate::sql::LIKE_ESCAPE)
            .push(")");
    }
    sql.push(" ORDER BY at DESC, id DESC LIMIT ")
        .bind(f.limit.max(1))
        .push(" OFFSET ")
        .bind(offset.max(0));
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}
