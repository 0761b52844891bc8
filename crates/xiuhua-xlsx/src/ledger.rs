//! Ledgers (台账): finding the header row (which need not be the first row), matching columns
//! by their Chinese names, and turning each data row into (field, value) pairs with its sheet
//! and row number, so every later error can name where it came from.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use crate::cell::CellValue;
use xiuhua_domain::FieldCatalog;
use xiuhua_domain::message::{Message, msg};

use crate::columns::{Field, Level};
use crate::limits::ReadLimits;
use crate::source::{Format, ReadError, Row, for_each_row_limited};

/// How many rows from the top of a sheet are searched for the header.
const HEADER_SEARCH_ROWS: usize = 30;

/// A data row of a ledger.
#[derive(Clone, Debug)]
pub struct LedgerRow {
    /// Sheet name (shared by the rows of a sheet).
    pub sheet: Arc<str>,
    /// 1-based row number.
    pub row: usize,
    /// The whole row as read (for the error workbook).
    pub raw: Vec<CellValue>,
    /// Recognised columns: field and index into `raw` (which may be shorter: trailing empty
    /// cells are not stored).
    columns: Columns,
}

/// A sheet's recognised columns: field, index into the row, and whether it is a member field.
type Columns = Arc<[(Field, usize, bool)]>;

/// An empty cell, for columns beyond the end of a row.
static EMPTY: CellValue = CellValue::Empty;

impl LedgerRow {
    /// The value of a field in this row, if the column exists and the cell is not empty.
    pub fn get(&self, f: Field) -> Option<&CellValue> {
        self.values()
            .find(|(x, v)| *x == f && !v.is_empty())
            .map(|(_, v)| v)
    }

    /// Recognised columns and their values (household and member fields), left to right.
    pub fn values(&self) -> impl Iterator<Item = (Field, &CellValue)> {
        self.columns
            .iter()
            .map(|&(f, i, _)| (f, self.raw.get(i).unwrap_or(&EMPTY)))
    }

    /// Whether the row carries any member data.
    pub fn has_member(&self) -> bool {
        self.columns
            .iter()
            .any(|&(_, i, member)| member && self.raw.get(i).is_some_and(|v| !v.is_empty()))
    }
}

/// The header found in one sheet.
#[derive(Clone, Debug, Default)]
pub struct SheetHeader {
    /// Sheet name.
    pub sheet: String,
    /// 1-based row of the header.
    pub row: usize,
    /// Header texts, by column.
    pub names: Vec<String>,
    /// Recognised field of each column.
    pub fields: Vec<Option<Field>>,
    /// Columns whose header is not recognised: (1-based column, header). Reported, not dropped silently.
    pub unknown: Vec<(usize, String)>,
}

/// What was found in a file.
#[derive(Clone, Debug, Default)]
pub struct LedgerInfo {
    /// Detected format.
    pub format: Option<Format>,
    /// Sheets with a recognised header.
    pub sheets: Vec<SheetHeader>,
    /// Sheets without one (skipped).
    pub skipped_sheets: Vec<String>,
    /// Data rows passed on.
    pub rows: usize,
}

/// Why a ledger could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The file itself could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// No sheet has a recognisable header row.
    #[error(
        "no recognisable header row (need at least 姓名 and 证件号码 among the first {HEADER_SEARCH_ROWS} rows) in sheet(s): {0}"
    )]
    NoHeader(String),
}

impl LedgerError {
    /// The reason in Chinese.
    pub fn message_zh(&self) -> String {
        self.message().zh()
    }

    /// The reason as a message of the catalogue (`xiuhua_domain::message`).
    pub fn message(&self) -> Message {
        match self {
            LedgerError::Read(e) => e.message(),
            LedgerError::NoHeader(s) => msg("ledger_no_header")
                .arg("sheets", s)
                .arg("rows", HEADER_SEARCH_ROWS),
        }
    }
}

/// The catalogue a ledger is read with, and its columns.
#[derive(Clone, Copy)]
struct Cat<'a> {
    fields: &'a FieldCatalog,
    columns: &'a crate::columns::Columns,
}

impl Cat<'_> {
    fn field_of(&self, header: &str, extra: &[(String, String)]) -> Option<Field> {
        self.columns.field_of(self.fields, header, extra)
    }
}

fn header_score(cat: Cat<'_>, cells: &[CellValue], extra: &[(String, String)]) -> (usize, bool) {
    let fields: Vec<Field> = cells
        .iter()
        .filter_map(|c| match c {
            CellValue::Text(t) => cat.field_of(t, extra),
            _ => None,
        })
        .collect();
    let usable = fields.contains(&Field::NAME) && fields.contains(&Field::ID_NUMBER);
    (
        fields.iter().filter(|f| **f != Field::IGNORED).count(),
        usable,
    )
}

fn make_header(
    cat: Cat<'_>,
    sheet: &str,
    row: usize,
    cells: &[CellValue],
    extra: &[(String, String)],
) -> SheetHeader {
    let names: Vec<String> = cells.iter().map(CellValue::display).collect();
    let fields: Vec<Option<Field>> = names.iter().map(|n| cat.field_of(n, extra)).collect();
    let unknown = names
        .iter()
        .enumerate()
        .filter(|(i, n)| !n.is_empty() && fields[*i].is_none())
        .map(|(i, n)| (i + 1, n.clone()))
        .collect();
    SheetHeader {
        sheet: sheet.to_string(),
        row,
        names,
        fields,
        unknown,
    }
}

/// Reads a ledger file and calls `on_row` for each data row, with the header of its sheet.
/// `extra` maps additional header names to field storage names (from a mapping file).
pub fn read_ledger(
    path: &Path,
    extra: &[(String, String)],
    on_row: &mut dyn FnMut(&Arc<SheetHeader>, LedgerRow) -> ControlFlow<()>,
) -> Result<LedgerInfo, LedgerError> {
    let cat = Cat {
        fields: FieldCatalog::shipped(),
        columns: crate::columns::Columns::shipped(),
    };
    read(cat, path, extra, &ReadLimits::default(), on_row)
}

/// [`read_ledger`] within `limits` (instead of [`ReadLimits::default`]).
pub fn read_ledger_limited(
    path: &Path,
    extra: &[(String, String)],
    limits: &ReadLimits,
    on_row: &mut dyn FnMut(&Arc<SheetHeader>, LedgerRow) -> ControlFlow<()>,
) -> Result<LedgerInfo, LedgerError> {
    let cat = Cat {
        fields: FieldCatalog::shipped(),
        columns: crate::columns::Columns::shipped(),
    };
    read(cat, path, extra, limits, on_row)
}

/// [`read_ledger`] with another field catalogue (the shipped one extended by a province, or a
/// test's).
pub fn read_ledger_with(
    fields: &FieldCatalog,
    path: &Path,
    extra: &[(String, String)],
    on_row: &mut dyn FnMut(&Arc<SheetHeader>, LedgerRow) -> ControlFlow<()>,
) -> Result<LedgerInfo, LedgerError> {
    let columns = crate::columns::Columns::new(fields);
    read(
        Cat {
            fields,
            columns: &columns,
        },
        path,
        extra,
        &ReadLimits::default(),
        on_row,
    )
}

fn read(
    cat: Cat<'_>,
    path: &Path,
    extra: &[(String, String)],
    limits: &ReadLimits,
    on_row: &mut dyn FnMut(&Arc<SheetHeader>, LedgerRow) -> ControlFlow<()>,
) -> Result<LedgerInfo, LedgerError> {
    let mut info = LedgerInfo::default();
    let mut current_sheet: Arc<str> = Arc::from("");
    let mut header: Option<(Arc<SheetHeader>, Columns)> = None;
    let mut pending = 0;
    let mut seen_sheets: Vec<String> = Vec::new();
    let mut handle = |r: Row<'_>| -> ControlFlow<()> {
        if r.sheet != &*current_sheet {
            current_sheet = Arc::from(r.sheet);
            header = None;
            pending = 0;
            seen_sheets.push(r.sheet.to_string());
        }
        match &header {
            None => {
                if pending >= HEADER_SEARCH_ROWS {
                    return ControlFlow::Continue(());
                }
                pending += 1;
                let (score, usable) = header_score(cat, r.cells, extra);
                if usable && score >= 3 {
                    // A header row below a title row: take the best-scoring candidate seen so far.
                    let h = make_header(cat, r.sheet, r.row, r.cells, extra);
                    let columns: Columns = h
                        .fields
                        .iter()
                        .enumerate()
                        .filter_map(|(i, f)| f.filter(|f| *f != Field::IGNORED).map(|f| (f, i)))
                        .map(|(f, i)| (f, i, cat.fields.get(f).level == Level::Member))
                        .collect();
                    info.sheets.push(h.clone());
                    header = Some((Arc::new(h), columns));
                }
                ControlFlow::Continue(())
            }
            Some((h, columns)) => {
                let row = LedgerRow {
                    sheet: current_sheet.clone(),
                    row: r.row,
                    raw: std::mem::take(r.cells),
                    columns: columns.clone(),
                };
                if !row.has_member() && row.get(Field::HOUSEHOLD_NO).is_none() {
                    // Footers such as 合计 or 填表人: no member and no household on the row.
                    return ControlFlow::Continue(());
                }
                info.rows += 1;
                on_row(h, row)
            }
        }
    };
    let format = for_each_row_limited(path, limits, &mut handle)?;
    info.format = Some(format);
    info.skipped_sheets = seen_sheets
        .into_iter()
        .filter(|s| !info.sheets.iter().any(|h| &h.sheet == s))
        .collect();
    if info.sheets.is_empty() {
        let names = if info.skipped_sheets.is_empty() {
            "—".to_string()
        } else {
            info.skipped_sheets.join(", ")
        };
        return Err(LedgerError::NoHeader(names));
    }
    Ok(info)
}
