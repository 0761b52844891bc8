//! Department data pushes (部门数据推送): 医保, 民政, 教育, 住建 … send their files (xlsx or CSV,
//! one row per person, keyed by 身份证号) with an API token; xiuhua keeps every batch with its
//! rows. These batches are what the cross-department screening (部门数据比对) reads. How many
//! people a batch matched in the registry is for county staff (the batch list); the pusher is
//! told only how many rows were accepted or rejected, so a token cannot ask whether someone is
//! registered.
//!
//! A push is all or nothing: every row must carry a valid identity number; otherwise the
//! whole file is refused with every bad row named (sheet, row, column, value, reason in Chinese
//! and English). Pushing the same file again stores nothing new.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use sha2::{Digest, Sha256};
use xiuhua_db::AnyConnection;
use xiuhua_db::departments::{BatchRow, RecordRow};
use xiuhua_db::events::format_ts;
use xiuhua_domain::IdNumber;
use xiuhua_xlsx::cell::{CellValue, id_number_text};
use xiuhua_xlsx::source::Row;

use crate::imports::ImportProblem;
use crate::users::{TokenView, department_name};
use crate::{CurrentUser, Error, Result, Services};
use xiuhua_domain::message::{Message, msg};

/// Header names of the identity-number column.
const ID_HEADERS: &[&str] = &[
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "证件号码",
    "身份证件号码",
];

/// What a push stored, as the pusher is told: counts of its own rows, nothing about the
/// registry (the batch's matches are for county staff, [`batches`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushReport {
    /// The batch id.
    pub batch_id: i64,
    /// Data rows accepted.
    pub accepted: i64,
    /// Data rows rejected (a push is all or nothing: a file with bad rows is refused with
    /// [`PushError::Rows`], so a stored batch rejected none).
    pub rejected: i64,
    /// True when the same file had been pushed before (nothing new stored).
    pub duplicate: bool,
}

/// Why a push was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The file could not be read as a table.
    #[error("{0}")]
    Unreadable(#[from] xiuhua_xlsx::ReadError),
    /// No row has an identity-number column.
    #[error("no header row with an identity-number column (身份证号)")]
    NoIdColumn,
    /// Rows with problems; nothing was stored.
    #[error("{} rows with problems; nothing was stored", .0.len())]
    Rows(Vec<ImportProblem>),
    /// Anything else.
    #[error(transparent)]
    App(#[from] Error),
}

impl PushError {
    /// The reason as a message of the catalogue.
    pub fn message(&self) -> Message {
        match self {
            PushError::Unreadable(e) => e.message(),
            PushError::NoIdColumn => msg("push_no_id_column"),
            PushError::Rows(p) => msg("push_rows_with_problems").arg("count", p.len()),
            PushError::App(e) => e.message(),
        }
    }

    /// The reason in Chinese.
    pub fn message_zh(&self) -> String {
        self.message().zh()
    }
}

/// Reads, checks and stores a pushed file for the token's department and region.
pub async fn push(
    s: &Services,
    token: &TokenView,
    file_name: &str,
    bytes: &[u8],
) -> std::result::Result<PushReport, PushError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let dir = tempfile::tempdir().map_err(|e| Error::Unexpected(e.into()))?;
    let path = dir.path().join("push");
    std::fs::write(&path, bytes).map_err(|e| Error::Unexpected(e.into()))?;
    let parsed = tokio::task::spawn_blocking(move || read_records(&path))
        .await
        .map_err(|e| Error::Unexpected(e.into()))??;
    let mut tx = s.db.begin().await.map_err(Error::from)?;
    if let Some(b) =
        xiuhua_db::departments::find_batch(&mut tx, &token.department, &token.region_code, &sha256)
            .await
            .map_err(Error::from)?
    {
        return Ok(PushReport {
            batch_id: b.id,
            accepted: b.rows,
            rejected: 0,
            duplicate: true,
        });
    }
    let (id, rows, matched) = store_batch(s, &mut tx, token, file_name, sha256, parsed).await?;
    xiuhua_db::commit(tx).await.map_err(Error::from)?;
    crate::audit::record(
        s,
        &format!("token:{}", token.id),
        crate::audit::AuditAction::DepartmentPush,
        &format!("batch {id}"),
        &format!(
            "{} {} {rows} rows, {matched} matched, {file_name}",
            department_name(&token.department).unwrap_or(""),
            token.region_code
        ),
        "",
    )
    .await?;
    Ok(PushReport {
        batch_id: id,
        accepted: rows,
        rejected: 0,
        duplicate: false,
    })
}

/// Stores a new batch with its records and counts the registry members of the token's region
/// among them. Returns (batch id, rows, matched).
async fn store_batch(
    s: &Services,
    tx: &mut AnyConnection,
    token: &TokenView,
    file_name: &str,
    sha256: String,
    parsed: Vec<Parsed>,
) -> Result<(i64, i64, i64)> {
    let id = xiuhua_db::ids::reserve(tx, "department_batch", 1, 1).await?;
    let ids: Vec<String> = parsed.iter().map(|r| r.id_number.clone()).collect();
    let matched =
        xiuhua_db::departments::count_members_in_region(tx, &ids, &token.region_code).await?;
    let rows = parsed.len() as i64;
    xiuhua_db::departments::insert_batch(
        tx,
        &BatchRow {
            id,
            department: token.department.clone(),
            region_code: token.region_code.clone(),
            token_id: token.id,
            file_name: file_name.to_string(),
            sha256,
            rows,
            matched,
            received_at: format_ts(s.clock.now()),
        },
    )
    .await?;
    let records = parsed
        .into_iter()
        .map(|r| RecordRow {
            batch_id: id,
            row_no: r.row as i64,
            id_number: r.id_number,
            data: serde_json::to_string(&r.data).unwrap_or_default(),
        })
        .collect();
    xiuhua_db::departments::insert_records(tx, records).await?;
    Ok((id, rows, matched))
}

struct Parsed {
    row: usize,
    id_number: String,
    data: BTreeMap<String, String>,
}

/// The data rows below the first header row that names an identity-number column.
fn read_records(path: &std::path::Path) -> std::result::Result<Vec<Parsed>, PushError> {
    let mut header: Option<(String, Vec<String>, usize)> = None;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    xiuhua_xlsx::source::for_each_row(path, &mut |row| {
        match &header {
            Some((sheet, names, id_col)) if sheet == row.sheet => {
                parse_record(&row, names, *id_col, &mut out, &mut problems);
            }
            _ => {
                let names: Vec<String> = row.cells.iter().map(|c| c.display()).collect();
                if let Some(i) = names.iter().position(|n| ID_HEADERS.contains(&n.as_str())) {
                    header = Some((row.sheet.to_string(), names, i));
                }
            }
        }
        if problems.len() >= 10_000 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    if header.is_none() {
        return Err(PushError::NoIdColumn);
    }
    if !problems.is_empty() {
        return Err(PushError::Rows(problems));
    }
    Ok(out)
}

/// One data row: adds its identity number (normalised) and its other non-empty cells by header
/// name to `out`, or the problem with its identity number to `problems`.
fn parse_record(
    row: &Row<'_>,
    names: &[String],
    id_col: usize,
    out: &mut Vec<Parsed>,
    problems: &mut Vec<ImportProblem>,
) {
    let cell = row.cells.get(id_col).cloned().unwrap_or(CellValue::Empty);
    let problem = |value: String, m: Message| {
        ImportProblem::new(
            row.sheet.to_string(),
            row.row,
            names[id_col].clone(),
            value,
            m,
        )
    };
    match id_number_text(&cell) {
        Err(_) => problems.push(problem(
            cell.display(),
            msg("department_id_stored_as_number"),
        )),
        Ok(t) => match IdNumber::parse(&t) {
            Ok(id) => {
                let data = names
                    .iter()
                    .enumerate()
                    .filter(|(i, n)| *i != id_col && !n.is_empty())
                    .filter_map(|(i, n)| {
                        let v = row.cells.get(i)?.display();
                        (!v.is_empty()).then(|| (n.clone(), v))
                    })
                    .collect();
                out.push(Parsed {
                    row: row.row,
                    id_number: id.as_str().to_string(),
                    data,
                });
            }
            Err(e) => problems.push(problem(t, e.message())),
        },
    }
}

/// A stored batch, as county staff see it.
pub type Batch = BatchRow;

/// The batches concerning `user`'s region, newest first (county staff and administrators).
pub async fn batches(s: &Services, user: &CurrentUser, limit: i64) -> Result<Vec<Batch>> {
    user.require_county()?;
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::departments::list_batches(&mut conn, &user.region_code, limit).await?)
}
