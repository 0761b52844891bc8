//! A county's saved ledger column names (`column_mappings`): header as written (normalised) →
//! catalogue field, with who saved it and when.

use sqlx::AnyConnection;

use crate::Result;

/// One saved column name of a county.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MappingRow {
    /// The county (6 digits).
    pub county_code: String,
    /// The header, normalised as the reader matches headers.
    pub header: String,
    /// The header as the user saw it in the file.
    pub header_written: String,
    /// The catalogue field's name.
    pub field: String,
    /// Who saved it (user name).
    pub saved_by: String,
    /// When (RFC 3339 UTC).
    pub saved_at: String,
}

const COLS: &str = "county_code, header, header_written, field, saved_by, saved_at";

/// Saves a column name of a county, replacing what was saved for the same header.
pub async fn upsert(conn: &mut AnyConnection, r: &MappingRow) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO column_mappings ({COLS}) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (county_code, header) DO UPDATE SET header_written = $3, field = $4, \
         saved_by = $5, saved_at = $6"
    )))
    .bind(&r.county_code)
    .bind(&r.header)
    .bind(&r.header_written)
    .bind(&r.field)
    .bind(&r.saved_by)
    .bind(&r.saved_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The saved column names of a county, by header.
pub async fn of_county(conn: &mut AnyConnection, county: &str) -> Result<Vec<MappingRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM column_mappings WHERE county_code = $1 ORDER BY header"
    )))
    .bind(county)
    .fetch_all(conn)
    .await?)
}

/// The saved column names of every county whose code starts with `prefix` ("" for all), by
/// county and header.
pub async fn within(conn: &mut AnyConnection, prefix: &str) -> Result<Vec<MappingRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM column_mappings WHERE county_code LIKE $1 \
         ORDER BY county_code, header"
    )))
    // Region codes are digits: nothing in them is a LIKE wildcard.
    .bind(format!("{prefix}%"))
    .fetch_all(conn)
    .await?)
}

/// Deletes a saved column name; returns whether there was one.
pub async fn delete(conn: &mut AnyConnection, county: &str, header: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM column_mappings WHERE county_code = $1 AND header = $2")
        .bind(county)
        .bind(header)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() > 0)
}
