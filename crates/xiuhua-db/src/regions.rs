//! The `regions` table: 省 → 市 → 县 → 乡镇 → 行政村 → 村民小组.

use sqlx::AnyConnection;

use crate::Result;
use crate::sql::{Arg, insert_rows};

/// A stored region.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RegionRow {
    /// Code (2, 4, 6, 9, 12 or 15 digits).
    pub code: String,
    /// Name, e.g. 都安瑶族自治县.
    pub name: String,
    /// Level 1 (province) … 6 (group).
    pub level: i16,
    /// Parent code.
    pub parent_code: Option<String>,
    /// County code for levels 3–6.
    pub county_code: Option<String>,
    /// 1 if the village is a 贫困村.
    pub is_poor_village: i16,
    /// Year the 贫困村 exited (出列), if it has.
    pub poor_exit_year: Option<i32>,
}

const COLS: &str = "code, name, level, parent_code, county_code, is_poor_village, poor_exit_year";

/// Inserts or updates regions (by code).
pub async fn upsert_many(conn: &mut AnyConnection, rows: &[RegionRow]) -> Result<u64> {
    let rows: Vec<Vec<Arg>> = rows
        .iter()
        .map(|r| {
            vec![
                r.code.clone().into(),
                r.name.clone().into(),
                r.level.into(),
                r.parent_code.clone().into(),
                r.county_code.clone().into(),
                r.is_poor_village.into(),
                r.poor_exit_year.into(),
            ]
        })
        .collect();
    insert_rows(
        conn,
        &format!("INSERT INTO regions ({COLS})"),
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
         parent_code = excluded.parent_code, county_code = excluded.county_code, \
         is_poor_village = excluded.is_poor_village, poor_exit_year = excluded.poor_exit_year",
        rows,
    )
    .await
}

/// The region with this code, if any.
pub async fn find(conn: &mut AnyConnection, code: &str) -> Result<Option<RegionRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM regions WHERE code = $1"
    )))
    .bind(code)
    .fetch_optional(conn)
    .await?)
}

/// Direct children, ordered by code.
pub async fn children(conn: &mut AnyConnection, code: &str) -> Result<Vec<RegionRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM regions WHERE parent_code = $1 ORDER BY code"
    )))
    .bind(code)
    .fetch_all(conn)
    .await?)
}

/// All regions of a level inside a region (by code prefix), ordered by code.
pub async fn list_level(
    conn: &mut AnyConnection,
    level: i16,
    within: &str,
) -> Result<Vec<RegionRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM regions WHERE level = $1 AND code LIKE $2 ORDER BY code"
    )))
    .bind(level)
    .bind(format!("{within}%"))
    .fetch_all(conn)
    .await?)
}

/// Regions whose name contains `text`, at most `limit`.
pub async fn search(
    conn: &mut AnyConnection,
    text: &str,
    within: &str,
    limit: i64,
) -> Result<Vec<RegionRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM regions WHERE name LIKE $1{} AND code LIKE $2 ORDER BY level, code LIMIT $3",
        crate::sql::LIKE_ESCAPE
    )))
    .bind(format!("%{}%", crate::sql::like_escape(text)))
    .bind(format!("{within}%"))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Number of stored regions.
pub async fn count(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM regions")
        .fetch_one(conn)
        .await?)
}
