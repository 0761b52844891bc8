//! Bulk writes of new households (an import's chunk, the demo's batches): one storage function
//! for both backends, [`insert_bulk`], inside the caller's write transaction.
//!
//! - **SQLite**: prepared multi-row `INSERT`s ([`crate::sql::insert_rows`]; full statements repeat
//!   the same text, so sqlx reuses the prepared statement).
//! - **PostgreSQL**: `COPY … FROM STDIN` in text format. sqlx's `Any` connection cannot reach the
//!   PostgreSQL driver's `copy_in_raw`, so the rows are copied on a native PostgreSQL connection
//!   ([`crate::Db`] keeps a small pool of them) into the `UNLOGGED` staging tables of migration
//!   0016 under a batch key, autocommitted; then, inside the caller's transaction, one
//!   `INSERT … SELECT` per table moves them into the registry and the staged rows are deleted.
//!   The registry rows therefore still commit or roll back with the caller's transaction; rows
//!   staged by a transaction that rolled back are removed by [`discard_staged`].

use sqlx::AnyConnection;

use crate::events::EventRow;
use crate::households::{HouseholdRow, PeriodRow};
use crate::members::MemberRow;
use crate::sql::{Arg, insert_rows};
use crate::{Db, Result};

/// New households with their members, events and periods, to insert together.
#[derive(Debug, Default)]
pub struct BulkRows {
    /// Household rows.
    pub households: Vec<HouseholdRow>,
    /// Member rows of those households.
    pub members: Vec<MemberRow>,
    /// Their events.
    pub events: Vec<EventRow>,
    /// Their periods.
    pub periods: Vec<PeriodRow>,
}

/// Rows inserted per table by [`insert_bulk`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkCounts {
    /// Households inserted.
    pub households: u64,
    /// Members inserted.
    pub members: u64,
    /// Events inserted.
    pub events: u64,
    /// Periods inserted.
    pub periods: u64,
}

/// One registry table as the bulk path writes it.
struct Table {
    name: &'static str,
    staging: &'static str,
    cols: &'static str,
}

const HOUSEHOLDS: Table = Table {
    name: "households",
    staging: "staged_households",
    cols: crate::households::COLS,
};
const MEMBERS: Table = Table {
    name: "members",
    staging: "staged_members",
    cols: crate::members::COLS,
};
const EVENTS: Table = Table {
    name: "events",
    staging: "staged_events",
    cols: crate::events::COLS,
};
const PERIODS: Table = Table {
    name: "household_periods",
    staging: "staged_household_periods",
    cols: crate::households::PERIOD_COLS,
};

/// Inserts `rows` inside the transaction on `conn` (a connection of `db`). On PostgreSQL `batch`
/// keys the staged rows: a value no other bulk write running at the same time uses (an
/// import passes its run id, one chunk after the other).
pub async fn insert_bulk(
    db: &Db,
    conn: &mut AnyConnection,
    batch: i64,
    rows: &BulkRows,
) -> Result<BulkCounts> {
    let tables: [(&Table, Vec<Vec<Arg>>); 4] = [
        (
            &HOUSEHOLDS,
            rows.households.iter().map(HouseholdRow::args).collect(),
        ),
        (&MEMBERS, rows.members.iter().map(MemberRow::args).collect()),
        (&EVENTS, rows.events.iter().map(EventRow::args).collect()),
        (&PERIODS, rows.periods.iter().map(PeriodRow::args).collect()),
    ];
    let mut counts = [0u64; 4];
    match db.pg_pool() {
        None => {
            for (i, (t, args)) in tables.into_iter().enumerate() {
                counts[i] = insert_rows(
                    conn,
                    &format!("INSERT INTO {} ({})", t.name, t.cols),
                    "",
                    args,
                )
                .await?;
            }
        }
        Some(pg) => {
            let mut native = pg.acquire().await?;
            for (i, (t, args)) in tables.into_iter().enumerate() {
                if args.is_empty() {
                    continue;
                }
                copy_in(&mut native, t, batch, &args).await?;
                counts[i] = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {} ({cols}) SELECT {cols} FROM {} WHERE batch = $1",
                    t.name,
                    t.staging,
                    cols = t.cols
                )))
                .bind(batch)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {} WHERE batch = $1",
                    t.staging
                )))
                .bind(batch)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(BulkCounts {
        households: counts[0],
        members: counts[1],
        events: counts[2],
        periods: counts[3],
    })
}

/// Removes the rows staged under `batch` (after a transaction that used them rolled back).
/// No-op on SQLite.
pub async fn discard_staged(db: &Db, batch: i64) -> Result<()> {
    let Some(pg) = db.pg_pool() else {
        return Ok(());
    };
    for t in [&HOUSEHOLDS, &MEMBERS, &EVENTS, &PERIODS] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE batch = $1",
            t.staging
        )))
        .bind(batch)
        .execute(pg)
        .await?;
    }
    Ok(())
}

/// Bytes sent per `CopyData` message.
const COPY_BUFFER: usize = 1 << 20;

/// `COPY staging (batch, cols) FROM STDIN` of `rows` on a native connection.
async fn copy_in(
    native: &mut sqlx::postgres::PgConnection,
    t: &Table,
    batch: i64,
    rows: &[Vec<Arg>],
) -> Result<()> {
    let mut copy = native
        .copy_in_raw(&format!(
            "COPY {} (batch, {}) FROM STDIN",
            t.staging, t.cols
        ))
        .await?;
    let mut buf = String::with_capacity(COPY_BUFFER + 4096);
    let key = batch.to_string();
    for row in rows {
        buf.push_str(&key);
        for a in row {
            buf.push('\t');
            push_copy_text(&mut buf, a);
        }
        buf.push('\n');
        if buf.len() >= COPY_BUFFER {
            if let Err(e) = copy.send(buf.as_bytes()).await {
                let _ = copy.abort("send failed").await;
                return Err(e.into());
            }
            buf.clear();
        }
    }
    if !buf.is_empty()
        && let Err(e) = copy.send(buf.as_bytes()).await
    {
        let _ = copy.abort("send failed").await;
        return Err(e.into());
    }
    copy.finish().await?;
    Ok(())
}

/// One value in `COPY`'s text format: `\N` for NULL; backslash, tab, newline and carriage return
/// escaped.
fn push_copy_text(buf: &mut String, a: &Arg) {
    use std::fmt::Write;
    match a {
        Arg::I64(v) | Arg::OptI64(Some(v)) => {
            let _ = write!(buf, "{v}");
        }
        Arg::I16(v) => {
            let _ = write!(buf, "{v}");
        }
        Arg::OptF64(Some(v)) => {
            let _ = write!(buf, "{v}");
        }
        Arg::Text(s) | Arg::OptText(Some(s)) => {
            for c in s.chars() {
                match c {
                    '\\' => buf.push_str("\\\\"),
                    '\t' => buf.push_str("\\t"),
                    '\n' => buf.push_str("\\n"),
                    '\r' => buf.push_str("\\r"),
                    c => buf.push(c),
                }
            }
        }
        Arg::OptI64(None) | Arg::OptText(None) | Arg::OptF64(None) => buf.push_str("\\N"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_the_format_reserves() {
        let mut b = String::new();
        for a in [
            Arg::Text("a\\b\tc\nd\re 韦".into()),
            Arg::OptText(None),
            Arg::I64(-7),
            Arg::OptI64(None),
            Arg::I16(3),
            Arg::OptF64(Some(0.5)),
            Arg::OptF64(None),
        ] {
            push_copy_text(&mut b, &a);
            b.push('|');
        }
        assert_eq!(b, "a\\\\b\\tc\\nd\\re 韦|\\N|-7|\\N|3|0.5|\\N|");
    }
}
