//! The write phase of an import: a recorded run (`import_runs`), then the households the check
//! phase prepared (`pipeline::Checked`, read back from its spill file: the ledger is not read
//! again) stored in chunks, each its own short write transaction that re-checks only what can
//! have changed since the check's snapshot (`pipeline/replay`). A failure undoes the run
//! ([`super::undo`]).

use std::sync::Arc;

use anyhow::Context;
use xiuhua_db::events::format_ts;
use xiuhua_db::import_runs::{self, ImportRunRow};
use xiuhua_domain::message::msg;
use xiuhua_xlsx::SheetHeader;

use super::pipeline::{Checked, Mode, Prepared, Run};
use super::regions::Regions;
use super::{ImportOptions, ImportReport, undo};
use crate::tx_task::TxTask;
use crate::{CurrentUser, Error, Result, Services};
use std::time::Duration;
use xiuhua_db::Backend;

/// Households per batch the reader hands over (about 1,000 rows of the demo's shape). A chunk
/// (one write transaction) is one or more batches: as many as fit the backend's target time.
pub(super) const CHUNK_HOUSEHOLDS: usize = 250;

/// How long one chunk should hold the write transaction. On SQLite it holds the database's
/// only write lock, so a login or an edit waits up to about this long; PostgreSQL lets other
/// writers in meanwhile, so longer chunks there only save commits.
fn chunk_target(backend: Backend) -> Duration {
    match backend {
        Backend::Sqlite => Duration::from_millis(250),
        Backend::Postgres => Duration::from_millis(2000),
    }
}

/// Batches per chunk at most (bounds a chunk's memory whatever the timing says).
const MAX_BATCHES: usize = 32;

/// The batches of the next chunk: as many as the last chunk's time per batch says fit the
/// target, at least one.
fn next_batches(batches: usize, held: Duration, target: Duration) -> usize {
    let per_batch = held.as_secs_f64() / batches.max(1) as f64;
    if per_batch <= 0.0 {
        return MAX_BATCHES;
    }
    ((target.as_secs_f64() / per_batch) as usize).clamp(1, MAX_BATCHES)
}

/// Records an import run, writes the file in chunks and marks the run done; on any failure the
/// run is undone and the error returned (a problem found on the way names its row).
pub(super) async fn write_file(
    s: &Services,
    user: &CurrentUser,
    opts: &ImportOptions,
    sha: String,
    checked: Checked,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport> {
    let run_id = start_run(s, user, opts, &sha).await?;
    match write_chunks(s, user, opts, sha, checked, run_id, progress).await {
        Ok(report) => {
            // Best effort: a checkpoint that cannot run now (readers) runs later by itself.
            if let Err(e) = s.db.checkpoint().await {
                tracing::warn!("checkpoint after import: {e}");
            }
            Ok(report)
        }
        Err(e) => {
            tracing::warn!(run = run_id, error = %e, "import failed while writing; undoing it");
            // Rows PostgreSQL staged for COPY in the chunk that rolled back.
            if let Err(e) = xiuhua_db::bulk::discard_staged(&s.db, run_id).await {
                tracing::warn!(run = run_id, "discarding staged rows: {e}");
            }
            undo::undo_run(s, run_id).await?;
            Err(e)
        }
    }
}

/// Stores a new run in state `writing` and returns its id.
async fn start_run(
    s: &Services,
    user: &CurrentUser,
    opts: &ImportOptions,
    sha: &str,
) -> Result<i64> {
    let now = s.clock.now();
    let mut row = ImportRunRow {
        id: 0,
        county_code: opts.county.clone(),
        file_name: opts.file_name.clone(),
        file_sha256: sha.to_string(),
        actor: user.username.clone(),
        state: "writing".into(),
        chunks: 0,
        started_at: format_ts(now),
        finished_at: None,
    };
    // Ids as for jobs: the time in microseconds with 10 random bits, retried on a collision.
    let mut attempts = 0;
    loop {
        row.id = now.timestamp_micros().max(0) * 1024 + i64::from(rand::random::<u16>() % 1024);
        let mut tx = s.db.begin().await?;
        match import_runs::insert(&mut tx, &row).await {
            Err(xiuhua_db::Error::Conflict { .. }) if attempts < 8 => attempts += 1,
            Err(e) => return Err(e.into()),
            Ok(()) => {
                xiuhua_db::commit(tx).await?;
                return Ok(row.id);
            }
        }
    }
}

/// The chunks, then the run marked done (with the unused ids given back). The households the
/// check found invalid (a valid-only import's, held back) are skipped.
async fn write_chunks(
    s: &Services,
    user: &CurrentUser,
    opts: &ImportOptions,
    sha: String,
    checked: Checked,
    run_id: i64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport> {
    let mut conn = s.db.acquire().await?;
    let regions = Regions::load(&mut conn, &opts.county).await?;
    let closed_year = xiuhua_db::years::latest_closed(&mut conn, &opts.county).await?;
    drop(conn);
    let mut run = Run::new(
        s,
        user,
        opts,
        regions,
        closed_year,
        sha,
        Mode::Write(run_id),
    );
    let Checked {
        spill,
        house_bad,
        sheets,
        new_groups,
    } = checked;
    run.adopt_groups(new_groups);
    // SQLite: the chunks run on one connection of their own (its page cache stays warm from one
    // chunk to the next, see `Db::dedicated`); PostgreSQL has no such cache to lose.
    let writer = match s.db.backend() {
        Backend::Sqlite => {
            s.db.dedicated()
                .await
                .map_err(|e| Error::Unexpected(anyhow::anyhow!("import connection: {e}")))?
        }
        Backend::Postgres => s.db.clone(),
    };
    // A thread reads the prepared households back (skipping those the check found invalid)
    // while the chunks are written.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Prepared>>(2);
    let reader = tokio::task::spawn_blocking(move || -> Result<()> {
        let mut input = spill.into_reader()?;
        let mut batch = Vec::with_capacity(CHUNK_HOUSEHOLDS);
        while let Some(p) = input.next_household()? {
            if house_bad.get(p.origin().this as usize) == Some(&true) {
                continue;
            }
            batch.push(p);
            if batch.len() >= CHUNK_HOUSEHOLDS
                && sender.blocking_send(std::mem::take(&mut batch)).is_err()
            {
                return Ok(()); // the write stopped
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
        Ok(())
    });
    let mut failed = None;
    let target = chunk_target(s.db.backend());
    let (mut per_chunk, mut pending, mut batches) = (1usize, Vec::new(), 0usize);
    while let Some(entries) = receiver.recv().await {
        pending.extend(entries);
        batches += 1;
        if batches < per_chunk {
            continue;
        }
        match run
            .write_chunk(&writer, run_id, std::mem::take(&mut pending), &sheets)
            .await
        {
            Ok(held) => per_chunk = next_batches(batches, held, target),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
        batches = 0;
        progress(run.report().rows);
    }
    if failed.is_none() && !pending.is_empty() {
        match run.write_chunk(&writer, run_id, pending, &sheets).await {
            Ok(_) => progress(run.report().rows),
            Err(e) => failed = Some(e),
        }
    }
    drop(receiver); // a reader still running stops at its next send
    if s.db.backend() == Backend::Sqlite {
        writer.close().await;
    }
    let read = reader.await.context("import spill reader thread")?;
    if let Some(e) = failed {
        return Err(e);
    }
    read?;
    let mut tx = s.db.begin().await?;
    run.ids.release(&mut tx).await?;
    if !import_runs::finish(&mut tx, run_id, "done", &format_ts(s.clock.now())).await? {
        return Err(undone_meanwhile());
    }
    xiuhua_db::commit(tx).await?;
    Ok(run.into_report())
}

fn undone_meanwhile() -> Error {
    Error::conflict("import_undone", msg("import_run_undone_meanwhile"))
}

impl Run<'_> {
    /// One chunk in its own write transaction: the run is still `writing` (an undo from another
    /// process did not take it back), the chunk's prepared households re-checked where the
    /// registry can have changed since the check and written, the derived tables updated, then
    /// commit.
    /// A problem (an edit made since the check) or a failed write ends the import.
    async fn write_chunk(
        &mut self,
        writer: &xiuhua_db::Db,
        run_id: i64,
        entries: Vec<Prepared>,
        sheets: &[Arc<SheetHeader>],
    ) -> Result<Duration> {
        let first = entries.first().map_or(0, |p| p.origin().first_row as usize);
        let last = entries
            .last()
            .map_or(first, |p| p.origin().last_row as usize);
        let waited = std::time::Instant::now();
        let mut tx = writer.begin().await?;
        let held = std::time::Instant::now();
        if !import_runs::add_chunk(&mut tx, run_id).await? {
            return Err(undone_meanwhile());
        }
        let db = TxTask::spawn(tx);
        let worked = async {
            self.replay(&db, entries, sheets).await?;
            if !self.has_problems() {
                self.store_chunk(&db).await?;
            }
            Ok::<_, Error>(())
        }
        .await;
        let tx = db.finish().await;
        let tx = match (worked, tx) {
            (Err(e), _) | (Ok(()), Err(e)) => return Err(chunk_failed(first, last, e)),
            (Ok(()), Ok(tx)) => tx,
        };
        if let Some(p) = self.first_problem() {
            // Rolled back when dropped.
            drop(tx);
            return Err(Error::conflict(
                "import_undone",
                msg("import_undone")
                    .arg("row", p.row)
                    .arg("sheet", &p.sheet)
                    .arg("column", &p.column)
                    .arg("reason", &p.reason_zh),
            ));
        }
        xiuhua_db::commit_bulk(tx)
            .await
            .map_err(|e| chunk_failed(first, last, e.into()))?;
        tracing::debug!(
            run = run_id,
            first,
            last,
            waited_ms = (held - waited).as_millis() as u64,
            held_ms = held.elapsed().as_millis() as u64,
            "import chunk committed"
        );
        Ok(held.elapsed())
    }
}

/// A failed chunk as the import's error: kept when it already says the import was undone,
/// else named by the chunk's rows.
fn chunk_failed(first: usize, last: usize, e: Error) -> Error {
    match e {
        e @ Error::Conflict {
            code: "import_undone",
            ..
        } => e,
        e => Error::conflict(
            "import_undone",
            msg("import_chunk_failed")
                .arg("first", first)
                .arg("last", last)
                .arg("reason", e.message_zh()),
        ),
    }
}
