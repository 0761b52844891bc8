//! Background jobs (`jobs`): state, progress and outcome of long-running work such as imports.

use sqlx::AnyConnection;

use crate::Result;

/// One job as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    /// Id (application-generated).
    pub id: i64,
    /// What kind of work (`import`).
    pub kind: String,
    /// The user who started it.
    pub owner_id: i64,
    /// The region scope of that user when it started.
    pub region_code: String,
    /// `queued`, `running`, `finished` or `failed`.
    pub state: String,
    /// Units done (rows read, for an import).
    pub done: i64,
    /// Units in all, when known.
    pub total: Option<i64>,
    /// The outcome as JSON (finished jobs).
    pub result: Option<String>,
    /// Stable code of the failure (failed jobs), e.g. `interrupted`, `invalid`.
    pub failure_code: Option<String>,
    /// Why it failed, for people (Chinese).
    pub failure: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC of the last change.
    pub updated_at: String,
}

const COLS: &str = "id, kind, owner_id, region_code, state, done, total, result, failure_code, \
                    failure, created_at, updated_at";

/// States of a job that has not ended.
const UNFINISHED: &str = "state IN ('queued', 'running')";

/// Stores a new job.
pub async fn insert(conn: &mut AnyConnection, r: &JobRow) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO jobs ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(r.id)
    .bind(&r.kind)
    .bind(r.owner_id)
    .bind(&r.region_code)
    .bind(&r.state)
    .bind(r.done)
    .bind(r.total)
    .bind(&r.result)
    .bind(&r.failure_code)
    .bind(&r.failure)
    .bind(&r.created_at)
    .bind(&r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The job with this id.
pub async fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<JobRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM jobs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Marks a queued job running. Returns whether it was queued.
pub async fn set_running(conn: &mut AnyConnection, id: i64, at: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'running', updated_at = $1 WHERE id = $2 AND state = 'queued'",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records the progress of an unfinished job.
pub async fn set_progress(
    conn: &mut AnyConnection,
    id: i64,
    done: i64,
    total: Option<i64>,
    at: &str,
) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE jobs SET done = $1, total = $2, updated_at = $3 WHERE id = $4 AND {UNFINISHED}"
    )))
    .bind(done)
    .bind(total)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends an unfinished job with its outcome. Returns whether it was unfinished.
pub async fn set_finished(
    conn: &mut AnyConnection,
    id: i64,
    done: i64,
    result: &str,
    at: &str,
) -> Result<bool> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE jobs SET state = 'finished', done = $1, result = $2, updated_at = $3 \
         WHERE id = $4 AND {UNFINISHED}"
    )))
    .bind(done)
    .bind(result)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends an unfinished job as failed. Returns whether it was unfinished.
pub async fn set_failed(
    conn: &mut AnyConnection,
    id: i64,
    done: i64,
    code: &str,
    reason: &str,
    at: &str,
) -> Result<bool> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE jobs SET state = 'failed', done = $1, failure_code = $2, failure = $3, \
         updated_at = $4 WHERE id = $5 AND {UNFINISHED}"
    )))
    .bind(done)
    .bind(code)
    .bind(reason)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks every unfinished job failed (at start-up: nothing runs them any more). Returns how many.
pub async fn fail_unfinished(
    conn: &mut AnyConnection,
    code: &str,
    reason: &str,
    at: &str,
) -> Result<u64> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE jobs SET state = 'failed', failure_code = $1, failure = $2, updated_at = $3 \
         WHERE {UNFINISHED}"
    )))
    .bind(code)
    .bind(reason)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
