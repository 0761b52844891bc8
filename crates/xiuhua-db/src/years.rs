//! `closed_years` and `year_snapshots`: the end of a year's 年度动态调整 and its frozen counts.

use sqlx::AnyConnection;

use crate::Result;

/// The latest closed year of a county, if any.
pub async fn latest_closed(conn: &mut AnyConnection, county: &str) -> Result<Option<i32>> {
    let y: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(MAX(year) AS BIGINT) FROM closed_years WHERE county_code = $1",
    )
    .bind(county)
    .fetch_one(conn)
    .await?;
    Ok(y.map(|y| y as i32))
}

/// Records a closed year and freezes its snapshot: counts by village and status as of
/// December 31, computed from the periods, in the same transaction as the caller's.
pub async fn close(
    conn: &mut AnyConnection,
    county: &str,
    year: i32,
    at: &str,
    by: &str,
) -> Result<u64> {
    sqlx::query("INSERT INTO closed_years (county_code, year, closed_at, closed_by) VALUES ($1, $2, $3, $4)")
        .bind(county)
        .bind(year)
        .bind(at)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    let end = format!("{year}-12-31");
    Ok(sqlx::query(
        "INSERT INTO year_snapshots (county_code, year, village_code, status, monitoring, households, people) \
         SELECT county_code, $1, village_code, status, monitoring, COUNT(*), CAST(COALESCE(SUM(members), 0) AS BIGINT) \
         FROM household_periods WHERE county_code = $2 AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $4) \
         GROUP BY county_code, village_code, status, monitoring",
    )
    .bind(year)
    .bind(county)
    .bind(end.clone())
    .bind(end)
    .execute(conn)
    .await?
    .rows_affected())
}

/// One row of a frozen snapshot.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SnapshotRow {
    /// 行政村 code.
    pub village_code: String,
    /// Registry status.
    pub status: String,
    /// Monitoring status.
    pub monitoring: String,
    /// Households.
    pub households: i64,
    /// People.
    pub people: i64,
}

/// The frozen snapshot of a closed year for villages whose code starts with `region`.
pub async fn snapshot(
    conn: &mut AnyConnection,
    county: &str,
    year: i32,
    region: &str,
) -> Result<Vec<SnapshotRow>> {
    Ok(sqlx::query_as(
        "SELECT village_code, status, monitoring, households, people FROM year_snapshots \
         WHERE county_code = $1 AND year = $2 AND village_code LIKE $3 ORDER BY village_code, status, monitoring",
    )
    .bind(county)
    .bind(year)
    .bind(format!("{region}%"))
    .fetch_all(conn)
    .await?)
}

/// Closed years of a county, newest first: (year, closed_at, closed_by).
pub async fn list_closed(
    conn: &mut AnyConnection,
    county: &str,
) -> Result<Vec<(i32, String, String)>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT CAST(year AS BIGINT), closed_at, closed_by FROM closed_years WHERE county_code = $1 ORDER BY year DESC",
    )
    .bind(county)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(y, a, b)| (y as i32, a, b)).collect())
}
