//! The `department_batches` and `department_records` tables: files pushed by departments.

use sqlx::AnyConnection;

use crate::Result;
use crate::sql::{Arg, Sql, insert_rows};

/// One pushed file.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    /// Id.
    pub id: i64,
    /// Department code (`medical_insurance`, `civil_affairs`, …).
    pub department: String,
    /// Region the data concerns (the token's region).
    pub region_code: String,
    /// The token that pushed it.
    pub token_id: i64,
    /// File name as sent.
    pub file_name: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Data rows.
    pub rows: i64,
    /// Rows matching a registry member in the region.
    pub matched: i64,
    /// RFC 3339 UTC.
    pub received_at: String,
}

/// One row of a pushed file.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordRow {
    /// Batch.
    pub batch_id: i64,
    /// Row number in the file.
    pub row_no: i64,
    /// Normalised identity number.
    pub id_number: String,
    /// The other columns, as a JSON object of header → text.
    pub data: String,
}

const BATCH_COLS: &str =
    "id, department, region_code, token_id, file_name, sha256, rows, matched, received_at";

/// Stores a batch.
pub async fn insert_batch(conn: &mut AnyConnection, b: &BatchRow) -> Result<()> {
    insert_rows(
        conn,
        &format!("INSERT INTO department_batches ({BATCH_COLS})"),
        "",
        vec![vec![
            b.id.into(),
            b.department.clone().into(),
            b.region_code.clone().into(),
            b.token_id.into(),
            b.file_name.clone().into(),
            b.sha256.clone().into(),
            b.rows.into(),
            b.matched.into(),
            b.received_at.clone().into(),
        ]],
    )
    .await?;
    Ok(())
}

/// Stores rows of a batch.
pub async fn insert_records(conn: &mut AnyConnection, rows: Vec<RecordRow>) -> Result<u64> {
    let args: Vec<Vec<Arg>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.batch_id.into(),
                r.row_no.into(),
                r.id_number.into(),
                r.data.into(),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "INSERT INTO department_records (batch_id, row_no, id_number, data)",
        "",
        args,
    )
    .await
}

/// The batch of the same department, region and file content, if pushed before.
pub async fn find_batch(
    conn: &mut AnyConnection,
    department: &str,
    region: &str,
    sha256: &str,
) -> Result<Option<BatchRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLS} FROM department_batches WHERE department = $1 AND region_code = $2 AND sha256 = $3"
    )))
    .bind(department)
    .bind(region)
    .bind(sha256)
    .fetch_optional(conn)
    .await?)
}

/// How many of these identity numbers belong to members of households inside `region`.
pub async fn count_members_in_region(
    conn: &mut AnyConnection,
    id_numbers: &[String],
    region: &str,
) -> Result<i64> {
    let mut total = 0;
    for chunk in id_numbers.chunks(500) {
        let mut sql = Sql::new(
            "SELECT COUNT(*) FROM members m JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id \
             WHERE h.village_code LIKE ",
        );
        sql.bind(format!("{region}%")).push(" AND m.id_number IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(id.clone());
        }
        sql.push(")");
        let row = sql.query_for(conn).fetch_one(&mut *conn).await?;
        total += sqlx::Row::try_get::<i64, _>(&row, 0)?;
    }
    Ok(total)
}

/// Batches whose region lies inside `region`, newest first.
pub async fn list_batches(
    conn: &mut AnyConnection,
    region: &str,
    limit: i64,
) -> Result<Vec<BatchRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLS} FROM department_batches WHERE region_code LIKE $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(format!("{region}%"))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The rows of a batch, in file order.
pub async fn records(conn: &mut AnyConnection, batch_id: i64) -> Result<Vec<RecordRow>> {
    Ok(sqlx::query_as(
        "SELECT batch_id, row_no, id_number, data FROM department_records WHERE batch_id = $1 ORDER BY row_no",
    )
    .bind(batch_id)
    .fetch_all(conn)
    .await?)
}
