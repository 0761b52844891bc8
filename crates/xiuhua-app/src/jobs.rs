//! Background jobs: work that outlives its request (the upload page's imports), kept in the
//! `jobs` table so that its state and outcome survive a restart. A job belongs to the user who
//! started it and to the region scope they had then; nobody else sees it.
//!
//! Life: [`start`] (queued) → [`set_running`] → [`finish`] with a JSON result, or [`fail`] with
//! a code and a reason. [`interrupt_unfinished`] runs when the server starts: a job still queued
//! or running then has nothing running it any more, and imports are atomic, so it is marked
//! failed (`interrupted`) with nothing half-done left behind.
//!
//! Progress while a job runs is kept in memory ([`progress`]) and written to the table when the
//! job ends: an import holds SQLite's single write lock for its whole transaction, so a progress
//! `UPDATE` from another connection would wait for the import to finish anyway.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use xiuhua_db::events::format_ts;
use xiuhua_db::jobs::JobRow;

use crate::imports::{ImportCounts, ImportOptions, ImportReport, import_ledger};
use crate::{CurrentUser, Error, Result, Services};

/// Failure code of a job the server stopped under.
pub const INTERRUPTED: &str = "interrupted";
/// Reason shown for an interrupted job.
pub const INTERRUPTED_ZH: &str = "服务重启，任务中断";

/// What a job does (`jobs.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// A ledger import (`imports::import_ledger`); its result is an [`ImportOutcome`].
    Import,
}

impl JobKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Import => "import",
        }
    }

    fn parse(s: &str) -> Result<JobKind> {
        match s {
            "import" => Ok(JobKind::Import),
            other => Err(Error::Unexpected(anyhow::anyhow!(
                "unknown job kind {other:?}"
            ))),
        }
    }
}

/// Where a job is (`jobs.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Stored, not started yet.
    Queued,
    /// Running.
    Running,
    /// Ended with a result.
    Finished,
    /// Ended without one (see the failure code and reason).
    Failed,
}

impl JobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<JobState> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "finished" => JobState::Finished,
            "failed" => JobState::Failed,
            other => {
                return Err(Error::Unexpected(anyhow::anyhow!(
                    "unknown job state {other:?}"
                )));
            }
        })
    }

    /// Whether the job has ended (finished or failed).
    pub fn is_done(self) -> bool {
        matches!(self, JobState::Finished | JobState::Failed)
    }
}

/// A job as its owner sees it.
#[derive(Clone, Debug)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// What it does.
    pub kind: JobKind,
    /// Where it is.
    pub state: JobState,
    /// Units done so far (rows read, for an import).
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
    /// The outcome (finished jobs).
    pub result: Option<serde_json::Value>,
    /// Stable failure code (failed jobs): `interrupted`, `invalid`, a conflict code, `internal`.
    pub failure_code: Option<String>,
    /// Why it failed (Chinese, for the page).
    pub failure: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC of the last change.
    pub updated_at: String,
}

/// Progress counters of the jobs running in this process, by id.
#[derive(Clone, Default)]
pub struct Live(Arc<Mutex<HashMap<i64, Arc<AtomicU64>>>>);

impl Live {
    fn track(&self, id: i64) -> Arc<AtomicU64> {
        let counter = Arc::new(AtomicU64::new(0));
        if let Ok(mut m) = self.0.lock() {
            m.insert(id, Arc::clone(&counter));
        }
        counter
    }

    fn get(&self, id: i64) -> Option<u64> {
        let m = self.0.lock().ok()?;
        m.get(&id).map(|c| c.load(Ordering::Relaxed))
    }

    fn forget(&self, id: i64) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&id);
        }
    }
}

/// Stores a new queued job owned by `user` and returns its id.
pub async fn start(s: &Services, user: &CurrentUser, kind: JobKind) -> Result<i64> {
    let now = s.clock.now();
    let mut row = JobRow {
        id: 0,
        kind: kind.as_str().into(),
        owner_id: user.id,
        region_code: user.region_code.clone(),
        state: JobState::Queued.as_str().into(),
        done: 0,
        total: None,
        result: None,
        failure_code: None,
        failure: None,
        created_at: format_ts(now),
        updated_at: format_ts(now),
    };
    let mut conn = s.db.acquire_write().await?;
    // Ids are the time in microseconds with 10 random bits (as in the access log): no sequence
    // round trip, not guessable from a neighbour's, retried on the rare collision.
    let mut attempts = 0;
    loop {
        row.id = now.timestamp_micros().max(0) * 1024 + i64::from(rand::random::<u16>() % 1024);
        match xiuhua_db::jobs::insert(&mut conn, &row).await {
            Err(xiuhua_db::Error::Conflict { .. }) if attempts < 8 => attempts += 1,
            other => {
                other?;
                s.jobs.track(row.id);
                return Ok(row.id);
            }
        }
    }
}

/// Marks a queued job running.
pub async fn set_running(s: &Services, id: i64) -> Result<()> {
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::jobs::set_running(&mut conn, id, &format_ts(s.clock.now())).await?;
    Ok(())
}

/// Records how far a job running in this process got (kept in memory, stored when it ends).
pub fn progress(s: &Services, id: i64, done: u64) {
    if let Ok(m) = s.jobs.0.lock()
        && let Some(c) = m.get(&id)
    {
        c.store(done, Ordering::Relaxed);
    }
}

/// Ends a job with its result.
pub async fn finish(s: &Services, id: i64, result: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string(result).map_err(|e| Error::Unexpected(e.into()))?;
    end(s, id, End::Finished(&text)).await
}

/// Ends a job as failed, with a stable code and the reason for people.
pub async fn fail(s: &Services, id: i64, code: &str, reason: &str) -> Result<()> {
    end(s, id, End::Failed { code, reason }).await
}

/// How a job ends.
enum End<'a> {
    Finished(&'a str),
    Failed { code: &'a str, reason: &'a str },
}

/// Stores the end of a job, again after a pause if that fails: on SQLite another import may hold
/// the write lock for longer than the busy timeout, and a job must not stay "running".
async fn end(s: &Services, id: i64, how: End<'_>) -> Result<()> {
    let done = i64::try_from(s.jobs.get(id).unwrap_or(0)).unwrap_or(i64::MAX);
    let at = format_ts(s.clock.now());
    let mut attempt = 0;
    let r = loop {
        let r = async {
            let mut conn = s.db.acquire_write().await?;
            match how {
                End::Finished(text) => {
                    xiuhua_db::jobs::set_finished(&mut conn, id, done, text, &at).await
                }
                End::Failed { code, reason } => {
                    xiuhua_db::jobs::set_failed(&mut conn, id, done, code, reason, &at).await
                }
            }
        }
        .await;
        match r {
            Ok(_) => break Ok(()),
            Err(e) if attempt < 5 => {
                tracing::warn!(job = id, error = %e, attempt, "storing the end of a job failed; retrying");
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Err(e) => break Err(e.into()),
        }
    };
    s.jobs.forget(id);
    r
}

/// The job with this id, if `user` started it and still has the region scope it started with;
/// otherwise `NotFound`.
pub async fn get(s: &Services, user: &CurrentUser, id: i64) -> Result<Job> {
    let not_found = || Error::NotFound {
        what: format!("job {id}"),
    };
    let mut conn = s.db.acquire().await?;
    let row = xiuhua_db::jobs::find(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    if row.owner_id != user.id || !user.can_see(&row.region_code) {
        return Err(not_found());
    }
    let state = JobState::parse(&row.state)?;
    let stored = u64::try_from(row.done).unwrap_or(0);
    let done = match state {
        JobState::Running => s.jobs.get(id).map_or(stored, |live| live.max(stored)),
        _ => stored,
    };
    Ok(Job {
        id,
        kind: JobKind::parse(&row.kind)?,
        state,
        done,
        total: row.total.and_then(|t| u64::try_from(t).ok()),
        result: match &row.result {
            Some(text) => {
                Some(serde_json::from_str(text).map_err(|e| Error::Unexpected(e.into()))?)
            }
            None => None,
        },
        failure_code: row.failure_code,
        failure: row.failure,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Marks every job left queued or running failed (`interrupted`, "服务重启，任务中断"). Runs at
/// server start, before any new job can begin; returns how many were marked.
pub async fn interrupt_unfinished(s: &Services) -> Result<u64> {
    let mut conn = s.db.acquire_write().await?;
    Ok(xiuhua_db::jobs::fail_unfinished(
        &mut conn,
        INTERRUPTED,
        INTERRUPTED_ZH,
        &format_ts(s.clock.now()),
    )
    .await?)
}

/// Problems kept in an import job's result (all of them are in the error workbook).
pub const SHOWN_PROBLEMS: usize = 200;

/// The stored result of an import job: the report without the workbook, and the problems shown
/// on the page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportOutcome {
    /// The uploaded file's name.
    pub file_name: String,
    /// The report's counts (read through `Deref`: `outcome.rows`).
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// All problems found (non-zero means nothing was written).
    pub problem_count: usize,
    /// The first [`SHOWN_PROBLEMS`]: (sheet, row, column, value, reason in Chinese, kind — the
    /// key of the reason's message, for machines).
    pub problems: Vec<(String, usize, String, String, String, String)>,
    /// File name (in the temporary directory) of the error workbook, when there are problems.
    pub error_workbook: Option<String>,
    /// A dry run's changes per household (the report's, at most `imports::diff::MAX_DIFFS`).
    pub diffs: Vec<crate::imports::HouseholdDiff>,
    /// How many households a dry run would create or change.
    pub diffs_total: usize,
    /// Whether the problems refused the whole file (a valid-only import may hold back the
    /// households with problems instead).
    pub refused: bool,
    /// The 户编号 of each shown problem (same order as `problems`; empty when unknown).
    pub problem_households: Vec<String>,
}

impl std::ops::Deref for ImportOutcome {
    type Target = ImportCounts;
    fn deref(&self) -> &ImportCounts {
        &self.counts
    }
}

impl ImportOutcome {
    /// The outcome of a report; the error workbook is written to a temporary file.
    fn of(file_name: &str, r: ImportReport) -> ImportOutcome {
        let error_workbook = r.error_workbook.and_then(|bytes| {
            let name = format!("xiuhua-import-errors-{}.xlsx", crate::auth::random_token());
            match std::fs::write(std::env::temp_dir().join(&name), bytes) {
                Ok(()) => Some(name),
                Err(e) => {
                    tracing::error!(error = %e, "cannot keep an import's error workbook");
                    None
                }
            }
        });
        let problem_households = r
            .problems
            .iter()
            .take(SHOWN_PROBLEMS)
            .map(|p| p.household_no.clone())
            .collect();
        ImportOutcome {
            file_name: file_name.to_string(),
            counts: r.counts,
            problem_count: r.problems.len(),
            problems: r
                .problems
                .into_iter()
                .take(SHOWN_PROBLEMS)
                .map(|p| {
                    let kind = p.kind.to_string();
                    (p.sheet, p.row, p.column, p.value, p.reason_zh, kind)
                })
                .collect(),
            error_workbook,
            diffs: r.diffs,
            diffs_total: r.diffs_total,
            refused: r.refused,
            problem_households,
        }
    }
}

/// Starts a ledger import of the uploaded file at `upload` as a background job of `user` and
/// returns the job's id at once. The job reads the file with `imports::import_ledger`, deletes
/// it, and ends with an [`ImportOutcome`] — or fails with the import's error (invalid options,
/// a conflict, an unreadable file).
pub async fn start_import(
    s: &Services,
    user: &CurrentUser,
    upload: PathBuf,
    opts: ImportOptions,
) -> Result<i64> {
    let id = match start(s, user, JobKind::Import).await {
        Ok(id) => id,
        Err(e) => {
            let _ = std::fs::remove_file(&upload);
            return Err(e);
        }
    };
    let (s, user) = (s.clone(), user.clone());
    tokio::spawn(async move {
        if let Err(e) = run_import(&s, &user, id, &upload, &opts).await {
            tracing::error!(job = id, error = %e, "cannot store the end of an import job");
        }
    });
    Ok(id)
}

async fn run_import(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    upload: &Path,
    opts: &ImportOptions,
) -> Result<()> {
    let result = match set_running(s, id).await {
        Ok(()) => import_ledger(s, user, upload, opts, &|rows| progress(s, id, rows as u64)).await,
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(upload);
    match result {
        Ok(report) => {
            let outcome = ImportOutcome::of(&opts.file_name, report);
            let value = serde_json::to_value(&outcome).map_err(|e| Error::Unexpected(e.into()))?;
            finish(s, id, &value).await
        }
        Err(e) => {
            let code = match &e {
                Error::Invalid(_) => "invalid",
                Error::Conflict { code, .. } => code,
                Error::NotFound { .. } => "not_found",
                Error::Forbidden(_) => "forbidden",
                Error::Refused { code, .. } => code,
                _ => {
                    tracing::error!(job = id, error = %e, "import failed");
                    "internal"
                }
            };
            fail(s, id, code, &e.message_zh()).await
        }
    }
}

/// The error workbook of a finished import job of `user` (`NotFound` if it has none, or it is
/// gone from the temporary directory).
pub async fn import_error_workbook(s: &Services, user: &CurrentUser, id: i64) -> Result<Vec<u8>> {
    let job = get(s, user, id).await?;
    let name = job
        .result
        .and_then(|v| serde_json::from_value::<ImportOutcome>(v).ok())
        .and_then(|o| o.error_workbook)
        .filter(|n| n.starts_with("xiuhua-import-errors-") && !n.contains(['/', '\\']));
    let not_found = || Error::NotFound {
        what: "error workbook".into(),
    };
    let name = name.ok_or_else(not_found)?;
    std::fs::read(std::env::temp_dir().join(name)).map_err(|_| not_found())
}
