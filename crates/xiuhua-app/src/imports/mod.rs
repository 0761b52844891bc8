//! Importing household ledgers (台账) from Excel or CSV.
//!
//! A file goes in as it is: the reader finds the header and the columns it knows, and this
//! module turns rows into households. Rows of one household are consecutive and share a 户编号
//! (blank household cells on member rows, or merged cells, carry the household's values down).
//! Every problem is collected — sheet, row, column, value, reason — and the import is
//! all-or-nothing. Re-importing the same file changes nothing; a changed row produces only the
//! events for what changed, each with the file name, its SHA-256, the rows and the run as
//! source.
//!
//! An import never locks the county out. It reads the file once, in two phases:
//! 1. **Check** (this module, `pipeline`): the whole file is interpreted and checked against the
//!    registry on a *read* transaction (on SQLite a WAL snapshot, which never blocks a writer):
//!    the same problems, report and error workbook as before. A dry run ends here and takes no
//!    write lock at all.
//! 2. **Write** (`write`): an `import_runs` row is recorded, then the households the check
//!    prepared (kept in a temporary file, `pipeline::Spill`) are stored in chunks of batches of
//!    `write::CHUNK_HOUSEHOLDS` households (as many batches as fit about 250 ms on SQLite, 2 s
//!    on PostgreSQL), each chunk its own short write transaction that re-checks what can have
//!    changed since the check (户编号 and identity numbers registered meanwhile; changed
//!    households written with the version they were checked against, so an edit made
//!    meanwhile refuses them), writes, updates the derived tables and commits. Other
//!    writers get the database between chunks (`xiuhua_db::Db`'s write gate).
//!    If a chunk fails, or the process dies, the run is undone (`undo`): its events deleted,
//!    the households it created deleted, the ones it changed re-derived from their remaining
//!    events. Unfinished runs are undone when the database is next opened (`Services::new`).

pub mod diff;
mod ids;
mod interpret;
pub mod mappings;
mod pipeline;
mod reader;
mod regions;
mod undo;
mod write;

use std::io::Read;
use std::path::Path;
use xiuhua_domain::message::{Message, msg};

use anyhow::Context;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::tx_task::{Reply, TxTask};
use crate::{CurrentUser, Error, Result, Services};
pub use diff::HouseholdDiff;
use interpret::Group;
use pipeline::{Lookups, Mode, Run};
use reader::{Msg, read_groups};
use regions::Regions;
pub use undo::undo_unfinished;

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The region the ledger belongs to: its county, or a township or village of it (the
    /// user's own region); village names are looked up in its county.
    pub county: String,
    /// From when the imported facts are true.
    pub effective_date: NaiveDate,
    /// Check and report what would change; write nothing (no write lock is taken).
    pub dry_run: bool,
    /// Extra header names → field storage names (from a mapping file).
    pub mapping: Vec<(String, String)>,
    /// The name the user gave the file (recorded as source).
    pub file_name: String,
    /// Why (recorded on every event).
    pub reason: String,
    /// The status of new households whose rows say nothing about it (the file has no
    /// 户类型 / 户属性 / 脱贫年度 / 脱贫标志 / 监测对象类型 column, or those cells are blank).
    /// Without it such a file is refused before anything is written
    /// (`import_default_status_needed`).
    pub default_status: Option<xiuhua_domain::RegistryStatus>,
    /// Import the valid households and hold back the invalid ones (listed in the report with
    /// their problems); false: all or nothing. Either way the write is atomic.
    pub valid_only: bool,
}

/// One problem in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProblem {
    /// Sheet.
    pub sheet: String,
    /// 1-based row.
    pub row: usize,
    /// Column header as written in the file (empty for whole-household problems).
    pub column: String,
    /// The column's letter as Excel shows it (`A`, `AB`; empty for whole-household problems).
    pub column_letter: String,
    /// The 户编号 of the household the row belongs to (empty when the row has none).
    pub household_no: String,
    /// The cell's value.
    pub value: String,
    /// What kind of problem it is: the key of its message (machine-readable).
    pub kind: &'static str,
    /// The reason: a key of the message catalogue and its arguments.
    pub message: Message,
    /// Reason in Chinese (rendered from `message`).
    pub reason_zh: String,
    /// Reason in English (rendered from `message`).
    pub reason_en: String,
}

impl ImportProblem {
    /// A problem of a cell (or of a row, with an empty column and value).
    pub fn new(sheet: String, row: usize, column: String, value: String, message: Message) -> Self {
        ImportProblem {
            sheet,
            row,
            column,
            column_letter: String::new(),
            household_no: String::new(),
            value,
            kind: message.key,
            reason_zh: message.zh(),
            reason_en: message.en(),
            message,
        }
    }
}

/// The counts of an import: what the report, the stored job result and the page all show.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ImportCounts {
    /// SHA-256 of the file.
    pub sha256: String,
    /// Data rows read.
    pub rows: usize,
    /// Households in the file.
    pub households: usize,
    /// Households without problems.
    pub valid_households: usize,
    /// Households with problems (held back by a valid-only import, else refusing the file).
    pub invalid_households: usize,
    /// Member rows read (rows naming a person).
    pub member_rows: usize,
    /// Member rows of valid households.
    pub valid_member_rows: usize,
    /// Member rows of invalid households.
    pub invalid_member_rows: usize,
    /// Households held back by a valid-only import (not written), by 户编号 in file order.
    pub held_back: Vec<String>,
    /// Whether the file has no column that says a household's status (户类型, 户属性, 脱贫年度,
    /// 脱贫标志, 监测对象类型): its new households take `ImportOptions::default_status`.
    pub no_status_column: bool,
    /// New households.
    pub created: usize,
    /// Existing households with changes.
    pub changed: usize,
    /// Existing households without changes.
    pub unchanged: usize,
    /// Events written (or that would be).
    pub events: usize,
    /// Headers not recognised: (sheet, column number, header).
    pub unknown_columns: Vec<(String, usize, String)>,
    /// Sheets without a header (skipped).
    pub skipped_sheets: Vec<String>,
    /// What the reader noticed that is not a problem: each unknown column once, each row that
    /// is not a household's (totals, footers, notes, repeated headers), in file order.
    pub notices: Vec<ImportNotice>,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
}

/// Something noticed in a file that is not a problem: a column whose header is not known (not
/// imported), or a row that is not a household's (skipped).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportNotice {
    /// What kind of notice: the key of its message (`ledger_unknown_column`,
    /// `ledger_skipped_total`, `ledger_skipped_footer`, `ledger_skipped_note`,
    /// `ledger_skipped_header`, `ledger_skipped_title`).
    pub kind: String,
    /// Sheet.
    pub sheet: String,
    /// 1-based row as Excel shows it (for a column: its header row).
    pub row: usize,
    /// Column letters (A, B, … AA) for a column; empty for a row.
    pub column: String,
    /// The header as written, or the row's first text.
    pub text: String,
    /// The notice in Chinese.
    pub reason_zh: String,
    /// The notice in English.
    pub reason_en: String,
}

impl ImportNotice {
    /// The notices of a file's outline: unknown columns of each sheet, then skipped rows.
    pub(crate) fn of_outline(info: &xiuhua_xlsx::LedgerInfo) -> Vec<ImportNotice> {
        let mut out = Vec::new();
        for h in &info.sheets {
            for (c, name) in &h.unknown {
                let letter = xiuhua_xlsx::column_letter(*c);
                let m = msg("ledger_unknown_column")
                    .arg("letter", &letter)
                    .arg("header", name);
                out.push(ImportNotice {
                    kind: m.key.to_string(),
                    sheet: h.sheet.clone(),
                    row: h.row,
                    column: letter,
                    text: name.clone(),
                    reason_zh: m.zh(),
                    reason_en: m.en(),
                });
            }
        }
        for r in &info.skipped_rows {
            let m = r.message();
            out.push(ImportNotice {
                kind: m.key.to_string(),
                sheet: r.sheet.clone(),
                row: r.row,
                column: String::new(),
                text: r.text.clone(),
                reason_zh: m.zh(),
                reason_en: m.en(),
            });
        }
        out
    }
}

/// What an import did (or would do, for a dry run): its counts (read through `Deref`:
/// `report.rows`), every problem and the error workbook.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// The counts.
    pub counts: ImportCounts,
    /// Every problem found; non-empty means nothing was written, unless the import was
    /// valid-only (then they are the problems of the households held back, `held_back`).
    pub problems: Vec<ImportProblem>,
    /// The error workbook (original rows + reasons), when there are problems.
    pub error_workbook: Option<Vec<u8>>,
    /// A dry run's changes per household, in file order (at most `diff::MAX_DIFFS`).
    pub diffs: Vec<HouseholdDiff>,
    /// How many households a dry run would create or change (`diffs` may hold fewer).
    pub diffs_total: usize,
    /// Whether the problems refused the whole file (nothing written): always when there are
    /// problems, except for a valid-only import whose problems all lie in households it
    /// could hold back.
    pub refused: bool,
}

impl ImportReport {
    /// The report as JSON (`xiuhua import --report`): the counts, and each problem with its
    /// stable code (the message key), sheet, row as the spreadsheet shows it, column (header as
    /// written and letter), 户编号, value and message in Chinese and English.
    pub fn to_json(&self) -> serde_json::Value {
        let problems: Vec<serde_json::Value> = self
            .problems
            .iter()
            .map(|p| {
                serde_json::json!({
                    "code": p.kind,
                    "sheet": p.sheet,
                    "row": p.row,
                    "column": p.column,
                    "column_letter": p.column_letter,
                    "household_no": p.household_no,
                    "value": p.value,
                    "message_zh": p.reason_zh,
                    "message_en": p.reason_en,
                })
            })
            .collect();
        serde_json::json!({
            "ok": self.problems.is_empty(),
            "refused": self.refused,
            "counts": self.counts,
            "problems": problems,
        })
    }
}

impl std::ops::Deref for ImportReport {
    type Target = ImportCounts;
    fn deref(&self) -> &ImportCounts {
        &self.counts
    }
}

impl std::ops::DerefMut for ImportReport {
    fn deref_mut(&mut self) -> &mut ImportCounts {
        &mut self.counts
    }
}

/// At most this many problems are listed (the count of further ones is reported).
const MAX_PROBLEMS: usize = 10_000;

/// Hashes a file with SHA-256.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Imports a ledger file. With problems, nothing is written and the report lists them all
/// (with an error workbook); a dry run reports what would change and writes nothing (it takes
/// no write lock). A write that fails half-way (a concurrent edit made a row invalid) is undone
/// and answers a `Conflict` naming the row and the reason.
pub async fn import_ledger(
    s: &Services,
    user: &CurrentUser,
    path: &Path,
    opts: &ImportOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport> {
    let mut opts = check_request(s, user, opts)?;
    opts.mapping = mappings::with_saved(s, &opts.county, &opts.mapping).await?;
    let opts = &opts;
    let sha = file_sha(path, opts)?;
    // Progress counts each row twice (checked, then written), reported halved: it ends at the
    // number of rows.
    let mut run = check_file(s, user, path, opts, sha.clone(), &|rows| progress(rows / 2)).await?;
    // All or nothing, unless the valid part was asked for and every problem lies in a
    // household that can be held back.
    if run.has_problems() && !(opts.valid_only && run.problems_held_back()) {
        let mut report = run.rejected()?;
        report.refused = true;
        return Ok(report);
    }
    let prepared = run.take_prepared();
    let mut checked = if run.has_problems() {
        run.rejected()?
    } else {
        run.into_report()
    };
    let Some(prepared) = prepared.filter(|_| !opts.dry_run) else {
        return Ok(checked);
    };
    let rows = checked.rows;
    // The write stores what the check prepared: the file is not read again.
    let written = write::write_file(s, user, opts, sha, prepared, &|written| {
        progress((rows + written) / 2)
    })
    .await?;
    // The check's report (counts of the file, the households held back with their problems
    // and error workbook), with what was written.
    checked.created = written.created;
    checked.changed = written.changed;
    checked.unchanged = written.unchanged;
    checked.events = written.events;
    checked.dry_run = false;
    Ok(checked)
}

/// The file's SHA-256.
fn file_sha(path: &Path, opts: &ImportOptions) -> Result<String> {
    sha256_file(path).map_err(|e| {
        Error::invalid(
            &opts.file_name,
            "file",
            "unreadable",
            msg("unreadable_file").arg("error", e),
        )
    })
}

/// Households per batch of the check phase.
const CHECK_BATCH: usize = 200;

/// The check phase: the whole file interpreted and checked on a read transaction (a snapshot:
/// it blocks no writer). The run holds every problem found and the counts of what would change.
async fn check_file<'a>(
    s: &'a Services,
    user: &'a CurrentUser,
    path: &Path,
    opts: &'a ImportOptions,
    sha: String,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Run<'a>> {
    let mut tx = xiuhua_db::backup::begin_snapshot(&s.db).await?;
    let regions = Regions::load(&mut tx, &opts.county).await?;
    let closed_year = xiuhua_db::years::latest_closed(&mut tx, &opts.county).await?;
    let mut run = Run::new(s, user, opts, regions, closed_year, sha, Mode::Check);
    if !opts.dry_run {
        run.prepare()?;
    }
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Msg>(4);
    let path_buf = path.to_path_buf();
    let mapping = opts.mapping.clone();
    let reader =
        tokio::task::spawn_blocking(move || read_groups(&path_buf, &mapping, CHECK_BATCH, &sender));
    // Three things run at once: the reader thread parses the file, this task interprets batch
    // k, and the database task looks up batch k+1 meanwhile.
    let db = TxTask::spawn(tx);
    let (outline, failed) = drive(&mut run, &db, &mut receiver, &opts.county, progress).await;
    drop(receiver); // a reader still running stops at its next send
    reader.await.context("ledger reader thread")?;
    // A job's own error is the one worth reporting; the error seen here may only say that the
    // database task had stopped. The read transaction ends when dropped.
    match (db.finish().await, failed) {
        (Err(e), _) | (Ok(_), Some(e)) => return Err(e),
        (Ok(_), None) => {}
    }
    let info = ledger_info(outline, opts)?;
    run.add_outline(&info);
    fill_late_rows(&mut run, path, opts).await?;
    Ok(run)
}

/// The error workbook's rows that were added after their household had been read (the earlier
/// row of a duplicate identity number) get their original cells from a second reading of the
/// file, which happens only then.
async fn fill_late_rows(run: &mut Run<'_>, path: &Path, opts: &ImportOptions) -> Result<()> {
    let wanted: std::collections::HashSet<(String, usize)> =
        run.late_rows().iter().cloned().collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let path = path.to_path_buf();
    let mapping = opts.mapping.clone();
    let cells = tokio::task::spawn_blocking(move || {
        let mut found = std::collections::HashMap::new();
        let _ = xiuhua_xlsx::read_ledger(&path, &mapping, &mut |h, row| {
            if wanted.contains(&(h.sheet.clone(), row.row)) {
                found.insert((h.sheet.clone(), row.row), row.raw);
            }
            std::ops::ControlFlow::Continue(())
        });
        found
    })
    .await
    .context("ledger reader thread")?;
    run.fill_late_rows(cells);
    Ok(())
}

/// The user may write, the region named (`opts.county`: a county, or a township or village —
/// the upload form offers the user's own region) lies inside the user's region or contains it,
/// and the facts are not effective in the future. Returns the options with `county` the county
/// code of that region: village names are looked up in the county, and each row outside the
/// user's region is refused on its own (`Run::check_scope`).
fn check_request(s: &Services, user: &CurrentUser, opts: &ImportOptions) -> Result<ImportOptions> {
    user.require_write()?;
    let region = opts.county.trim();
    let related = user.can_see(region) || user.region_code.starts_with(region);
    let Some(county) = region.get(..6).filter(|_| related) else {
        return Err(Error::NotFound {
            what: format!("region {region}"),
        });
    };
    if opts.effective_date > s.clock.today() {
        return Err(Error::invalid(
            "导入",
            "effective_date",
            "future_date",
            msg("future_date").arg("effective_date", opts.effective_date),
        ));
    }
    Ok(ImportOptions {
        county: county.to_string(),
        ..opts.clone()
    })
}

/// The file's outline as the reader sent it with its last message.
type Outline = std::result::Result<xiuhua_xlsx::LedgerInfo, xiuhua_xlsx::LedgerError>;

/// Works through the reader's batches: each batch's lookups are queued as soon as it arrives,
/// and the batch before it is interpreted and checked meanwhile. Returns the file's outline
/// (`None` if the reader stopped early) and the first error, which ends the loop.
async fn drive(
    run: &mut Run<'_>,
    db: &TxTask,
    receiver: &mut tokio::sync::mpsc::Receiver<Msg>,
    county: &str,
    progress: &(dyn Fn(usize) + Sync),
) -> (Option<Outline>, Option<Error>) {
    let mut outline = None;
    let mut pending: Option<(Vec<Group>, Reply<Lookups>)> = None;
    while let Some(msg) = receiver.recv().await {
        match msg {
            Msg::Groups(groups) => {
                let next = match Lookups::ask(db, county, &groups).await {
                    Ok(r) => r,
                    Err(e) => return (outline, Some(e)),
                };
                if let Some((groups, found)) = pending.replace((groups, next))
                    && let Err(e) = run.batch(db, groups, found, progress).await
                {
                    return (outline, Some(e));
                }
            }
            Msg::Done(r) => outline = Some(r),
        }
    }
    if let Some((groups, found)) = pending.take()
        && let Err(e) = run.batch(db, groups, found, progress).await
    {
        return (outline, Some(e));
    }
    (outline, None)
}

/// The outline, or the error of a file that could not be read (or of a reader that stopped).
fn ledger_info(outline: Option<Outline>, opts: &ImportOptions) -> Result<xiuhua_xlsx::LedgerInfo> {
    match outline {
        Some(Ok(info)) => Ok(info),
        Some(Err(e)) => Err(Error::invalid(
            &opts.file_name,
            "file",
            "unreadable_file",
            e.message(),
        )),
        None => Err(Error::Unexpected(anyhow::anyhow!(
            "ledger reader stopped early"
        ))),
    }
}
