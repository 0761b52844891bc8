//! The `import_runs` table (a ledger import written in chunks) and what undoing a run needs:
//! its events found by the run's mark in `source_ref`, and the rows of households it created
//! deleted.

use sqlx::AnyConnection;

use crate::{Result, ids};

/// One import run as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRunRow {
    /// Id (application-generated).
    pub id: i64,
    /// County imported into.
    pub county_code: String,
    /// The file's name as the user gave it.
    pub file_name: String,
    /// SHA-256 of the file.
    pub file_sha256: String,
    /// Who imported.
    pub actor: String,
    /// `writing`, `done` or `undone`.
    pub state: String,
    /// Chunks committed.
    pub chunks: i64,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC, once done or undone.
    pub finished_at: Option<String>,
}

const COLS: &str =
    "id, county_code, file_name, file_sha256, actor, state, chunks, started_at, finished_at";

/// The mark every event of run `id` carries in its `source_ref`, before the rows
/// (`台账.xlsx sha256:… 导入#<id> 行4-5`).
pub fn source_mark(id: i64) -> String {
    format!("导入#{id}")
}

/// The `LIKE` pattern of the events of run `id`.
fn events_pattern(id: i64) -> String {
    format!("% {} 行%", source_mark(id))
}

/// Stores a new run.
pub async fn insert(conn: &mut AnyConnection, r: &ImportRunRow) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO import_runs ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )))
    .bind(r.id)
    .bind(&r.county_code)
    .bind(&r.file_name)
    .bind(&r.file_sha256)
    .bind(&r.actor)
    .bind(&r.state)
    .bind(r.chunks)
    .bind(&r.started_at)
    .bind(&r.finished_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The run with this id.
pub async fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<ImportRunRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM import_runs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Runs still `writing` (interrupted ones, when no import is running), oldest first.
pub async fn writing(conn: &mut AnyConnection) -> Result<Vec<ImportRunRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM import_runs WHERE state = 'writing' ORDER BY id"
    )))
    .fetch_all(conn)
    .await?)
}

/// Counts one more chunk of a run that is still `writing`; `false` if it is not (it was undone
/// meanwhile: the chunk must not be written). On PostgreSQL the row lock also orders the chunk
/// against a concurrent undo.
pub async fn add_chunk(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE import_runs SET chunks = chunks + 1 WHERE id = $1 AND state = 'writing'",
    )
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Ends a run that is `writing` as `done` or `undone`; `false` if it was not `writing`.
pub async fn finish(conn: &mut AnyConnection, id: i64, state: &str, at: &str) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE import_runs SET state = $2, finished_at = $3 WHERE id = $1 AND state = 'writing'",
    )
    .bind(id)
    .bind(state)
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The households that events of run `id` belong to, each with whether the run created it.
pub async fn households_of(
    conn: &mut AnyConnection,
    county: &str,
    id: i64,
) -> Result<Vec<(i64, bool)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT household_id, CAST(MAX(CASE WHEN kind = 'created' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM events WHERE county_code = $1 AND source = 'import' AND source_ref LIKE $2 \
         GROUP BY household_id ORDER BY household_id",
    )
    .bind(county)
    .bind(events_pattern(id))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(h, c)| (h, c == 1)).collect())
}

/// Deletes the events of run `id`.
pub async fn delete_events(conn: &mut AnyConnection, county: &str, id: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM events WHERE county_code = $1 AND source = 'import' AND source_ref LIKE $2",
    )
    .bind(county)
    .bind(events_pattern(id))
    .execute(conn)
    .await?
    .rows_affected())
}

/// Deletes a household altogether: its members, periods, events and row (a household that an
/// undone run created never existed).
pub async fn delete_household(conn: &mut AnyConnection, household_id: i64) -> Result<()> {
    let county = ids::county_of(household_id);
    for table in ["members", "household_periods", "events"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE county_code = $1 AND household_id = $2"
        )))
        .bind(&county)
        .bind(household_id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM households WHERE county_code = $1 AND id = $2")
        .bind(&county)
        .bind(household_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
