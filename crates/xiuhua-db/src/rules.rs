//! Rule-set versions, evaluation runs and their per-unit results.

use sqlx::AnyConnection;

use crate::Result;
use crate::sql::{Arg, insert_rows};

/// A stored rule-set version.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RuleSetRow {
    /// Rule-set id.
    pub id: String,
    /// Version.
    pub version: i64,
    /// The TOML text.
    pub source: String,
    /// `shipped` or `admin`.
    pub origin: String,
    /// Who loaded it.
    pub loaded_by: String,
    /// RFC 3339 UTC.
    pub loaded_at: String,
}

/// Stores a version unless it is already there; returns whether it was new.
pub async fn insert_rule_set(conn: &mut AnyConnection, r: &RuleSetRow) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO rule_sets (id, version, source, origin, loaded_by, loaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id, version) DO NOTHING",
    )
    .bind(&r.id)
    .bind(r.version)
    .bind(&r.source)
    .bind(&r.origin)
    .bind(&r.loaded_by)
    .bind(&r.loaded_at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Every stored version, by id and version.
pub async fn list_rule_sets(conn: &mut AnyConnection) -> Result<Vec<RuleSetRow>> {
    Ok(sqlx::query_as(
        "SELECT id, version, source, origin, loaded_by, loaded_at FROM rule_sets ORDER BY id, version",
    )
    .fetch_all(conn)
    .await?)
}

/// One evaluation run.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRow {
    /// Run id.
    pub id: i64,
    /// Rule-set id.
    pub rule_set: String,
    /// Rule-set version.
    pub version: i64,
    /// Region evaluated.
    pub region_code: String,
    /// ISO date the data was taken as of.
    pub as_of: String,
    /// Who ran it.
    pub actor: String,
    /// RFC 3339 UTC; also the knowledge cut-off for re-explaining results.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
    /// Units evaluated.
    pub units: i64,
    /// Units where the set holds.
    pub holds: i64,
    /// Units where it does not.
    pub fails: i64,
    /// Units where it cannot be decided.
    pub unknowns: i64,
}

const RUN_COLS: &str = "id, rule_set, version, region_code, as_of, actor, started_at, finished_at, units, holds, fails, unknowns";

/// Stores a run.
pub async fn insert_run(conn: &mut AnyConnection, r: &RunRow) -> Result<()> {
    insert_rows(
        conn,
        &format!("INSERT INTO rule_runs ({RUN_COLS})"),
        "",
        vec![vec![
            r.id.into(),
            r.rule_set.clone().into(),
            r.version.into(),
            r.region_code.clone().into(),
            r.as_of.clone().into(),
            r.actor.clone().into(),
            r.started_at.clone().into(),
            r.finished_at.clone().into(),
            r.units.into(),
            r.holds.into(),
            r.fails.into(),
            r.unknowns.into(),
        ]],
    )
    .await?;
    Ok(())
}

/// A run by id.
pub async fn find_run(conn: &mut AnyConnection, id: i64) -> Result<Option<RunRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLS} FROM rule_runs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The latest runs, newest first.
pub async fn recent_runs(conn: &mut AnyConnection, limit: i64) -> Result<Vec<RunRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLS} FROM rule_runs ORDER BY id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// One unit's stored result.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ResultRow {
    /// Run id.
    pub run_id: i64,
    /// Household id (as text) or region code.
    pub unit: String,
    /// Village of the unit (households), or the unit itself.
    pub village_code: String,
    /// pass / fail / unknown.
    pub decision: String,
    /// Total score, for scorecards.
    pub score: Option<f64>,
    /// One character per item: P, F, U.
    pub items: String,
    /// Values of declared inputs used (JSON object), if any were given.
    pub inputs: Option<String>,
}

/// Stores results (chunked multi-row inserts).
pub async fn insert_results(conn: &mut AnyConnection, rows: Vec<ResultRow>) -> Result<u64> {
    let args: Vec<Vec<Arg>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.run_id.into(),
                r.unit.into(),
                r.village_code.into(),
                r.decision.into(),
                r.score.into(),
                r.items.into(),
                r.inputs.into(),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "INSERT INTO rule_results (run_id, unit, village_code, decision, score, items, inputs)",
        "",
        args,
    )
    .await
}

/// The stored results of one unit with their runs, newest first.
pub async fn results_for_unit(
    conn: &mut AnyConnection,
    unit: &str,
    limit: i64,
) -> Result<Vec<(RunRow, ResultRow)>> {
    let runs: Vec<ResultRow> = sqlx::query_as(
        "SELECT run_id, unit, village_code, decision, score, items, inputs FROM rule_results \
         WHERE unit = $1 ORDER BY run_id DESC LIMIT $2",
    )
    .bind(unit)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(runs.len());
    for r in runs {
        if let Some(run) = find_run(conn, r.run_id).await? {
            out.push((run, r));
        }
    }
    Ok(out)
}

/// One unit's result in one run.
pub async fn find_result(
    conn: &mut AnyConnection,
    run_id: i64,
    unit: &str,
) -> Result<Option<ResultRow>> {
    Ok(sqlx::query_as(
        "SELECT run_id, unit, village_code, decision, score, items, inputs FROM rule_results \
         WHERE run_id = $1 AND unit = $2",
    )
    .bind(run_id)
    .bind(unit)
    .fetch_optional(conn)
    .await?)
}

/// Runs inside `region` whose number of stored results differs from their `units`:
/// (run id, units, results stored).
pub async fn incomplete_runs(
    conn: &mut AnyConnection,
    region: &str,
) -> Result<Vec<(i64, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.units, CAST((SELECT COUNT(*) FROM rule_results x WHERE x.run_id = r.id) AS BIGINT) AS n \
         FROM rule_runs r WHERE r.region_code LIKE $1 \
         AND r.units <> (SELECT COUNT(*) FROM rule_results x WHERE x.run_id = r.id) ORDER BY r.id",
    )
    .bind(format!("{region}%"))
    .fetch_all(conn)
    .await?)
}

/// Which stored results of a run to list ([`run_results`]).
#[derive(Clone, Debug, Default)]
pub struct ResultFilter {
    /// The run.
    pub run_id: i64,
    /// Only units whose village code begins with this (the caller's scope already applied).
    pub village_prefix: String,
    /// The outcome asked for: `P`, `F` or `U` (of the decision, or of `item` when given).
    pub outcome: Option<char>,
    /// 1-based position of an item in the set's file order: filter on its outcome instead.
    pub item: Option<usize>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

fn push_result_filter(sql: &mut crate::sql::Sql, f: &ResultFilter) {
    sql.push(" WHERE run_id = ").bind(f.run_id);
    sql.push(" AND village_code LIKE ")
        .bind(format!("{}%", crate::sql::like_escape(&f.village_prefix)));
    sql.push(crate::sql::LIKE_ESCAPE);
    match (f.item, f.outcome) {
        (Some(pos), Some(o)) => {
            // PostgreSQL's substr takes an integer position; a bound BIGINT needs the cast.
            sql.push(" AND SUBSTR(items, CAST(")
                .bind(pos as i64)
                .push(" AS INTEGER), 1) = ")
                .bind(o.to_string());
        }
        (None, Some(o)) => {
            let decision = match o {
                'P' => "pass",
                'F' => "fail",
                _ => "unknown",
            };
            sql.push(" AND decision = ").bind(decision);
        }
        _ => {}
    }
}

/// One page of a run's stored results matching `f`, ordered by unit.
pub async fn run_results(conn: &mut AnyConnection, f: &ResultFilter) -> Result<Vec<ResultRow>> {
    let mut sql = crate::sql::Sql::new(
        "SELECT run_id, unit, village_code, decision, score, items, inputs FROM rule_results",
    );
    push_result_filter(&mut sql, f);
    sql.push(" ORDER BY village_code, unit LIMIT ")
        .bind(f.limit)
        .push(" OFFSET ")
        .bind(f.offset);
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}

/// How many of a run's stored results match `f` (ignores limit and offset).
pub async fn count_run_results(conn: &mut AnyConnection, f: &ResultFilter) -> Result<i64> {
    let mut sql = crate::sql::Sql::new("SELECT CAST(COUNT(*) AS BIGINT) FROM rule_results");
    push_result_filter(&mut sql, f);
    let row = sql.query_for(conn).fetch_one(conn).await?;
    Ok(sqlx::Row::try_get(&row, 0)?)
}
