//! Online backup, verification and restore, the same for SQLite and PostgreSQL.
//!
//! `backup` reads every table inside one snapshot transaction (the server keeps running and
//! writing; the backup is the state at one instant) into a new SQLite file with xiuhua's schema,
//! and records each table's row count and fingerprint in the file (`xiuhua_db::backup`). The file
//! is written under a temporary name and renamed when complete, so a crash leaves no half
//! backup under the real name.
//!
//! `verify` runs SQLite's integrity and foreign-key checks on the file and recomputes every
//! fingerprint. `restore` verifies first, then replaces the content of the target database in
//! one transaction and compares the target's fingerprints with the manifest before committing:
//! a restore either gives exactly the backed-up state or changes nothing.

use std::path::{Path, PathBuf};
use std::time::Instant;
use xiuhua_domain::message::msg;

use xiuhua_db::backup::{self as store, TABLES, TableDigest};
use xiuhua_db::{Db, Tx};

use crate::{CurrentUser, Error, Result, Services};

/// What a backup wrote.
#[derive(Clone, Debug)]
pub struct BackupReport {
    /// The backup file.
    pub path: PathBuf,
    /// Per-table rows and fingerprints, as recorded in the file.
    pub tables: Vec<TableDigest>,
    /// File size.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
}

/// The result of checking a backup file.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    /// `backup_info` entries (created_at, backend, schema, xiuhua version).
    pub info: Vec<(String, String)>,
    /// Per-table rows and fingerprints recomputed from the file.
    pub tables: Vec<TableDigest>,
    /// Problems found (empty when the backup is sound).
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether the file passed every check.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// A value of `backup_info`.
    pub fn info(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    /// Per-table rows and fingerprints of the restored database (equal to the manifest).
    pub tables: Vec<TableDigest>,
    /// Wall time.
    pub seconds: f64,
}

fn sqlite_url(path: &Path, mode: &str) -> String {
    format!("sqlite://{}?mode={mode}", path.display())
}

fn unexpected(e: impl std::fmt::Display) -> Error {
    Error::Unexpected(anyhow::anyhow!("{e}"))
}

/// Writes a backup of the whole database to `out` (which must not exist) while the database
/// stays in use. Only administrators may do this; it is recorded in the access log.
pub async fn backup(
    s: &Services,
    by: &CurrentUser,
    out: &Path,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<BackupReport> {
    if by.role != crate::auth::Role::Admin || !by.region_code.is_empty() {
        return Err(Error::Forbidden(
            "only the system administrator may back up the database".into(),
        ));
    }
    if out.exists() {
        return Err(Error::conflict(
            "backup_exists",
            msg("backup_exists").arg("out", out.display()),
        ));
    }
    let started = Instant::now();
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let dst_db = Db::open(&sqlite_url(&partial, "rwc"), 1)
        .await
        .map_err(unexpected)?;
    let result = write_backup(s, by, &dst_db, progress).await;
    dst_db.close().await;
    let tables = match result {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let file = std::fs::File::open(&partial).map_err(unexpected)?;
    file.sync_all().map_err(unexpected)?;
    std::fs::rename(&partial, out).map_err(unexpected)?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    crate::audit::record(
        s,
        &by.username,
        crate::audit::AuditAction::Backup,
        &out.display().to_string(),
        &format!("{} tables, {bytes} bytes", tables.len()),
        "",
    )
    .await?;
    Ok(BackupReport {
        path: out.to_path_buf(),
        tables,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Copies every table from one snapshot of the database into the (empty, open) backup file
/// with the manifest, and leaves the file without a write-ahead log.
async fn write_backup(
    s: &Services,
    by: &CurrentUser,
    dst_db: &Db,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<Vec<TableDigest>> {
    let mut src = store::begin_snapshot(&s.db).await?;
    let schema = store::schema_version(&mut src).await?;
    let mut dst = dst_db.begin().await?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let d = store::copy_table(&mut src, Some(&mut dst), t, &mut |n| progress(t, n)).await?;
        tables.push(d);
    }
    drop(src);
    let info = [
        ("created_at", xiuhua_db::events::format_ts(s.clock.now())),
        ("created_by", by.username.clone()),
        (
            "backend",
            format!("{:?}", s.db.backend()).to_ascii_lowercase(),
        ),
        ("schema_version", schema.to_string()),
        ("xiuhua_version", env!("CARGO_PKG_VERSION").to_string()),
    ];
    store::write_manifest(&mut dst, &info, &tables).await?;
    xiuhua_db::commit(dst).await?;
    // One self-contained file: no write-ahead log next to it.
    sqlx_free_pragma(dst_db, "PRAGMA journal_mode = DELETE").await?;
    Ok(tables)
}

async fn sqlx_free_pragma(db: &Db, pragma: &str) -> Result<()> {
    let mut conn = db.acquire().await?;
    xiuhua_db::sql::Sql::new(pragma).execute(&mut conn).await?;
    Ok(())
}

/// Checks a backup file: SQLite integrity and foreign keys, every table present in the
/// manifest, and every table's rows and fingerprint equal to the manifest.
pub async fn verify(path: &Path) -> Result<VerifyReport> {
    if !path.is_file() {
        return Err(Error::NotFound {
            what: format!("backup file {}", path.display()),
        });
    }
    let db = Db::connect(&sqlite_url(path, "ro"), 1)
        .await
        .map_err(unexpected)?;
    let result = verify_open(&db).await;
    db.close().await;
    result
}

async fn verify_open(db: &Db) -> Result<VerifyReport> {
    let mut conn = db.acquire().await?;
    let mut problems = match store::sqlite_integrity(&mut conn).await {
        Ok(p) => p,
        Err(e) => vec![format!("not a readable SQLite file: {e}")],
    };
    if !problems.is_empty() {
        return Ok(VerifyReport {
            info: Vec::new(),
            tables: Vec::new(),
            problems,
        });
    }
    let (info, expected) = match store::read_manifest(&mut conn).await {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!("not a xiuhua backup (no manifest): {e}"));
            return Ok(VerifyReport {
                info: Vec::new(),
                tables: Vec::new(),
                problems,
            });
        }
    };
    let actual = store::digest(&mut conn).await?;
    problems.extend(compare(&expected, &actual));
    Ok(VerifyReport {
        info,
        tables: actual,
        problems,
    })
}

/// Differences between a manifest and recomputed fingerprints, as readable lines.
fn compare(expected: &[TableDigest], actual: &[TableDigest]) -> Vec<String> {
    let mut problems = Vec::new();
    for a in actual {
        match expected.iter().find(|e| e.table == a.table) {
            None => problems.push(format!("table {} missing from the manifest", a.table)),
            Some(e) if e.rows != a.rows => problems.push(format!(
                "table {}: {} rows, manifest says {}",
                a.table, a.rows, e.rows
            )),
            Some(e) if e.sha256 != a.sha256 => problems.push(format!(
                "table {}: content differs from the manifest (fingerprint {} ≠ {})",
                a.table,
                &a.sha256[..12],
                &e.sha256[..12]
            )),
            Some(_) => {}
        }
    }
    for e in expected {
        if !actual.iter().any(|a| a.table == e.table) {
            problems.push(format!("table {} in the manifest is not known", e.table));
        }
    }
    problems
}

/// Replaces the content of `target` (opened and migrated) with the backup in `path`.
///
/// Refuses a backup that fails [`verify`] or was made with another schema version, and a
/// target that already holds households or users unless `force` is set. Sessions are not
/// restored (everybody logs in again).
pub async fn restore(
    target: &Db,
    path: &Path,
    force: bool,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<RestoreReport> {
    let started = Instant::now();
    let report = verify(path).await?;
    if !report.ok() {
        return Err(Error::conflict(
            "backup_damaged",
            msg("backup_damaged")
                .arg("problems", report.problems.join("；"))
                .arg("problems2", report.problems.join("; ")),
        ));
    }
    let mut tx = target.begin().await?;
    check_restorable(&mut tx, &report, force).await?;
    let src_db = Db::connect(&sqlite_url(path, "ro"), 1)
        .await
        .map_err(unexpected)?;
    let result = copy_from_backup(tx, &src_db, &report.tables, progress).await;
    src_db.close().await;
    let tables = result?;
    target.analyze().await?;
    target.checkpoint().await?;
    Ok(RestoreReport {
        tables,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Refuses a backup of another schema version, and a target in use unless `force` is set.
async fn check_restorable(tx: &mut Tx, report: &VerifyReport, force: bool) -> Result<()> {
    let schema = store::schema_version(&mut *tx).await?;
    let theirs = report.info("schema_version").unwrap_or("?");
    if theirs != schema.to_string() {
        return Err(Error::conflict(
            "backup_schema",
            msg("backup_schema")
                .arg("theirs", theirs)
                .arg("schema", schema),
        ));
    }
    let in_use = xiuhua_db::households::total(&mut *tx).await? > 0
        || xiuhua_db::users::count(&mut *tx).await? > 0;
    if in_use && !force {
        return Err(Error::conflict("target_not_empty", msg("target_not_empty")));
    }
    Ok(())
}

/// Replaces every table's content in `tx` with the backup's, checks the result against the
/// backup's fingerprints and commits.
async fn copy_from_backup(
    mut tx: Tx,
    src_db: &Db,
    expected: &[TableDigest],
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<Vec<TableDigest>> {
    let mut src = src_db.acquire().await?;
    store::clear_all(&mut tx).await?;
    for t in TABLES {
        store::copy_table(&mut src, Some(&mut tx), t, &mut |n| progress(t, n)).await?;
    }
    let restored = store::digest(&mut tx).await?;
    let problems = compare(expected, &restored);
    if !problems.is_empty() {
        return Err(Error::Unexpected(anyhow::anyhow!(
            "the restored database differs from the backup: {}",
            problems.join("; ")
        )));
    }
    xiuhua_db::commit(tx).await?;
    Ok(restored)
}
