//! Table-by-table copies and fingerprints of the whole database, for online backup and restore.
//!
//! A backup is a SQLite file with xiuhua's own schema (it can be opened as a data directory)
//! plus two tables: `backup_info` (when, from which backend, schema version) and
//! `backup_manifest` (per table: row count and a fingerprint of its rows). The same copy works
//! from either backend to either backend, so a backup of a PostgreSQL deployment restores into
//! SQLite and the reverse.
//!
//! **Fingerprint.** Each row is encoded canonically (NULL / integer / double / text, with
//! lengths), hashed with SHA-256, and the row hashes are *added* modulo 2²⁵⁶. The sum does not
//! depend on row order, so no `ORDER BY` is needed (PostgreSQL and SQLite would order text
//! differently) and a table streams in constant memory. Integer widths are normalised
//! (SMALLINT = BIGINT), so equal logical content gives equal fingerprints on both backends.

use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::any::AnyTypeInfoKind;
use sqlx::{AnyConnection, Column, Row, TypeInfo, ValueRef};

use crate::sql::{Arg, insert_rows};
use crate::{Error, Result};

/// Every table that holds state, parents before children (the order rows are restored in).
/// `sessions` is left out on purpose: a restore logs everybody out.
pub const TABLES: &[&str] = &[
    "regions",
    "code_items",
    "id_sequences",
    "households",
    "members",
    "events",
    "household_periods",
    "closed_years",
    "year_snapshots",
    "village_counts",
    "users",
    "api_tokens",
    "department_batches",
    "department_records",
    "rule_sets",
    "rule_runs",
    "rule_results",
    "login_failures",
    "access_log",
    "jobs",
    "import_runs",
    "column_mappings",
];

/// Tables that are deliberately not part of a backup.
pub const NOT_BACKED_UP: &[&str] = &[
    "sessions",
    "_sqlx_migrations",
    // Staging tables of `bulk::insert_bulk`: empty outside a bulk write.
    "staged_households",
    "staged_members",
    "staged_events",
    "staged_household_periods",
];

/// Row count and fingerprint of one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDigest {
    /// Table name.
    pub table: String,
    /// Number of rows.
    pub rows: i64,
    /// Order-independent SHA-256 sum of the rows (hex).
    pub sha256: String,
}

/// The sum of row hashes, modulo 2²⁵⁶ (big-endian bytes).
#[derive(Default)]
struct Fingerprint {
    sum: [u8; 32],
    rows: i64,
}

impl Fingerprint {
    fn add_row(&mut self, row: &[Arg]) {
        let mut h = Sha256::new();
        for a in row {
            match a {
                Arg::I64(v) | Arg::OptI64(Some(v)) => {
                    h.update(b"I");
                    h.update(v.to_le_bytes());
                }
                Arg::I16(v) => {
                    h.update(b"I");
                    h.update(i64::from(*v).to_le_bytes());
                }
                Arg::OptF64(Some(v)) => {
                    h.update(b"D");
                    h.update(v.to_bits().to_le_bytes());
                }
                Arg::Text(s) | Arg::OptText(Some(s)) => {
                    h.update(b"T");
                    h.update((s.len() as u64).to_le_bytes());
                    h.update(s.as_bytes());
                }
                Arg::OptI64(None) | Arg::OptF64(None) | Arg::OptText(None) => h.update(b"N"),
            }
        }
        let d = h.finalize();
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let s = u16::from(self.sum[i]) + u16::from(d[i]) + carry;
            self.sum[i] = (s & 0xff) as u8;
            carry = s >> 8;
        }
        self.rows += 1;
    }

    fn finish(self, table: &str) -> TableDigest {
        TableDigest {
            table: table.to_string(),
            rows: self.rows,
            sha256: hex::encode(self.sum),
        }
    }
}

/// One value of a row as a bind argument (NULLs keep the column's type for PostgreSQL).
fn value_of(row: &sqlx::any::AnyRow, i: usize) -> Result<Arg> {
    let raw = row.try_get_raw(i)?;
    let column_kind = row.columns()[i].type_info().kind();
    let integer = |k: AnyTypeInfoKind| k.is_integer() || k == AnyTypeInfoKind::Bool;
    let double = |k: AnyTypeInfoKind| matches!(k, AnyTypeInfoKind::Real | AnyTypeInfoKind::Double);
    if raw.is_null() {
        return Ok(if integer(column_kind) {
            Arg::OptI64(None)
        } else if double(column_kind) {
            Arg::OptF64(None)
        } else {
            Arg::OptText(None)
        });
    }
    let kind = raw.type_info().kind();
    Ok(if integer(kind) {
        Arg::I64(row.try_get::<i64, _>(i)?)
    } else if double(kind) {
        Arg::OptF64(Some(row.try_get::<f64, _>(i)?))
    } else if kind == AnyTypeInfoKind::Text {
        Arg::Text(row.try_get::<String, _>(i)?)
    } else {
        return Err(Error::Corrupt {
            what: "backup",
            reason: format!(
                "column {} has unsupported type {}",
                row.columns()[i].name(),
                raw.type_info().name()
            ),
        });
    })
}

/// Rows per insert batch while copying.
const BATCH: usize = 2_000;

/// Streams every row of `table` from `src`, feeding the fingerprint and, when `dst` is given,
/// inserting the rows there. Returns the fingerprint of what was read.
pub async fn copy_table(
    src: &mut AnyConnection,
    mut dst: Option<&mut AnyConnection>,
    table: &str,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<TableDigest> {
    debug_assert!(TABLES.contains(&table), "unknown table {table}");
    let select = format!("SELECT * FROM {table}");
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(src);
    let mut fp = Fingerprint::default();
    let mut head: Option<String> = None;
    let mut batch: Vec<Vec<Arg>> = Vec::with_capacity(BATCH);
    while let Some(row) = rows.try_next().await? {
        let values = (0..row.len())
            .map(|i| value_of(&row, i))
            .collect::<Result<Vec<Arg>>>()?;
        fp.add_row(&values);
        if dst.is_some() {
            if head.is_none() {
                let cols: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
                // The comment keeps the text apart from the application's own INSERTs: sqlx
                // caches prepared statements by text per connection, and PostgreSQL fixes the
                // parameter types at the first prepare (e.g. INT4 for a year bound as i32),
                // which then refuses the BIGINT values bound here.
                head = Some(format!(
                    "INSERT /* xiuhua copy */ INTO {table} ({})",
                    cols.join(", ")
                ));
            }
            batch.push(values);
            if batch.len() == BATCH {
                let d = dst.as_deref_mut().expect("checked");
                insert_rows(
                    d,
                    head.as_deref().unwrap_or_default(),
                    "",
                    std::mem::take(&mut batch),
                )
                .await?;
                progress(BATCH as u64);
            }
        } else if fp.rows % BATCH as i64 == 0 {
            progress(BATCH as u64);
        }
    }
    if let (Some(d), false) = (dst, batch.is_empty()) {
        let n = batch.len() as u64;
        insert_rows(d, head.as_deref().unwrap_or_default(), "", batch).await?;
        progress(n);
    }
    Ok(fp.finish(table))
}

/// Row counts and fingerprints of every table in [`TABLES`] (the database's logical state).
pub async fn digest(conn: &mut AnyConnection) -> Result<Vec<TableDigest>> {
    let mut out = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        out.push(copy_table(conn, None, t, &mut |_| {}).await?);
    }
    Ok(out)
}

/// Names of the tables that exist in the connected database (user tables only).
pub async fn table_names(conn: &mut AnyConnection) -> Result<Vec<String>> {
    let sql = if conn.backend_name() == "SQLite" {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    } else {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    };
    Ok(sqlx::query_scalar(sql).fetch_all(conn).await?)
}

/// Starts a read transaction that sees one consistent snapshot for all the statements in it
/// (PostgreSQL: `REPEATABLE READ`; SQLite in WAL mode: a read transaction is a snapshot).
pub async fn begin_snapshot(db: &crate::Db) -> Result<crate::Tx> {
    let mut tx = db.begin_read().await?;
    if db.backend() == crate::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// Deletes every row of every table in [`TABLES`] and the sessions (children first), inside
/// the caller's transaction: the first step of a restore.
pub async fn clear_all(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM sessions")
        .execute(&mut *conn)
        .await?;
    for t in TABLES.iter().rev() {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t}")))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Creates the manifest tables in a backup file and fills them.
pub async fn write_manifest(
    conn: &mut AnyConnection,
    info: &[(&str, String)],
    digests: &[TableDigest],
) -> Result<()> {
    sqlx::query("CREATE TABLE backup_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "CREATE TABLE backup_manifest (table_name TEXT PRIMARY KEY, rows BIGINT NOT NULL, sha256 TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let rows = info
        .iter()
        .map(|(k, v)| vec![Arg::from(*k), Arg::from(v.clone())])
        .collect();
    insert_rows(conn, "INSERT INTO backup_info (key, value)", "", rows).await?;
    let rows = digests
        .iter()
        .map(|d| {
            vec![
                Arg::from(d.table.clone()),
                Arg::from(d.rows),
                Arg::from(d.sha256.clone()),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "INSERT INTO backup_manifest (table_name, rows, sha256)",
        "",
        rows,
    )
    .await?;
    Ok(())
}

/// Reads a backup's `backup_info` and `backup_manifest`.
pub async fn read_manifest(
    conn: &mut AnyConnection,
) -> Result<(Vec<(String, String)>, Vec<TableDigest>)> {
    let info: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM backup_info ORDER BY key")
            .fetch_all(&mut *conn)
            .await?;
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT table_name, rows, sha256 FROM backup_manifest")
            .fetch_all(&mut *conn)
            .await?;
    let digests = rows
        .into_iter()
        .map(|(table, rows, sha256)| TableDigest {
            table,
            rows,
            sha256,
        })
        .collect();
    Ok((info, digests))
}

/// SQLite's own consistency checks of the file: `PRAGMA integrity_check` and
/// `PRAGMA foreign_key_check`. Returns the problems found (empty when the file is sound).
pub async fn sqlite_integrity(conn: &mut AnyConnection) -> Result<Vec<String>> {
    let mut problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await?;
    problems.retain(|p| p != "ok");
    let fk = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *conn)
        .await?;
    for r in fk {
        let table: String = r.try_get(0).unwrap_or_default();
        problems.push(format!("foreign key violation in {table}"));
    }
    Ok(problems)
}

/// The newest migration applied to the connected database.
pub async fn schema_version(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM _sqlx_migrations WHERE success = TRUE",
    )
    .fetch_one(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_row_order_and_integer_width() {
        let a = vec![Arg::I64(1), Arg::Text("x".into()), Arg::OptF64(None)];
        let b = vec![
            Arg::I16(2),
            Arg::OptText(Some("y".into())),
            Arg::OptF64(Some(1.5)),
        ];
        let mut f1 = Fingerprint::default();
        f1.add_row(&a);
        f1.add_row(&b);
        let mut f2 = Fingerprint::default();
        f2.add_row(&b);
        f2.add_row(&a);
        assert_eq!(f1.finish("t"), f2.finish("t"));
        let mut f3 = Fingerprint::default();
        f3.add_row(&[Arg::I16(1), Arg::Text("x".into()), Arg::OptText(None)]);
        f3.add_row(&b);
        assert_eq!(f3.finish("t").sha256, {
            let mut f = Fingerprint::default();
            f.add_row(&a);
            f.add_row(&b);
            f.finish("t").sha256
        });
    }

    #[test]
    fn fingerprint_sees_a_changed_value_and_a_missing_row() {
        let mut f1 = Fingerprint::default();
        f1.add_row(&[Arg::Text("ab".into()), Arg::Text("c".into())]);
        let mut f2 = Fingerprint::default();
        f2.add_row(&[Arg::Text("a".into()), Arg::Text("bc".into())]);
        assert_ne!(f1.finish("t"), f2.finish("t"));
        let mut f3 = Fingerprint::default();
        f3.add_row(&[Arg::I64(1)]);
        f3.add_row(&[Arg::I64(1)]);
        let mut f4 = Fingerprint::default();
        f4.add_row(&[Arg::I64(1)]);
        assert_ne!(f3.finish("t"), f4.finish("t"));
    }
}
