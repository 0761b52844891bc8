//! Reading rows from a spreadsheet file: `.xlsx` (streamed cell by cell, merged cells filled
//! down), legacy `.xls`, and `.csv` in UTF-8, UTF-8 with BOM, or GBK/GB18030 (what Chinese Excel
//! writes). The format is decided by the file's content, not its name.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;
use xiuhua_domain::message::{Message, msg};

use calamine::{DataRef, Dimensions, Reader, Xls, Xlsx, XlsxError};

use crate::cell::{CellValue, clean_text};
use crate::limits::{Limit, LimitError, Place, ReadLimits};

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// Not an Excel workbook or a text table (e.g. a PDF, an image, a zip of something else).
    #[error("not an Excel workbook (.xlsx/.xls) or a CSV file")]
    NotSpreadsheet,
    /// The workbook is encrypted with a password.
    #[error("the workbook is password-protected")]
    Password,
    /// The workbook is damaged.
    #[error("the workbook is damaged or unreadable: {0}")]
    Corrupt(String),
    /// The file passes one of its [`ReadLimits`] (a decompression bomb, a huge cell, too many
    /// rows or columns).
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The file could not be opened.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// The reason in Chinese.
    pub fn message_zh(&self) -> String {
        self.message().zh()
    }

    /// The reason as a message of the catalogue (`xiuhua_domain::message`).
    pub fn message(&self) -> Message {
        match self {
            ReadError::Empty => msg("read_empty"),
            ReadError::NotSpreadsheet => msg("read_not_spreadsheet"),
            ReadError::Password => msg("read_password"),
            ReadError::Corrupt(m) => msg("read_corrupt").arg("detail", m),
            ReadError::Limit(e) => e.message(),
            ReadError::Io(e) => msg("read_io").arg("error", e),
        }
    }
}

/// The kind of file detected from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML workbook.
    Xlsx,
    /// Legacy BIFF workbook (or an encrypted xlsx, which has the same container).
    Xls,
    /// Delimited text.
    Csv,
}

/// One row as read.
pub struct Row<'a> {
    /// Sheet name (`CSV` for text files).
    pub sheet: &'a str,
    /// 1-based row number as the user sees it in Excel.
    pub row: usize,
    /// The cells, left to right (trailing empty cells may be missing). A handler that keeps
    /// them takes them (`std::mem::take`) instead of copying; the reader starts the next row
    /// in a new vector.
    pub cells: &'a mut Vec<CellValue>,
}

/// Detects the format of a file from its first bytes.
pub fn detect(path: &Path) -> Result<Format, ReadError> {
    let mut head = [0u8; 4096];
    let mut f = File::open(path)?;
    let n = f.read(&mut head)?;
    let head = &head[..n];
    if n == 0 {
        return Err(ReadError::Empty);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(Format::Xls);
    }
    // Text: no NUL bytes and some delimiter in the first line.
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    if !head.contains(&0) && first_line.iter().any(|b| matches!(b, b',' | b'\t' | b';')) {
        return Ok(Format::Csv);
    }
    if !head.contains(&0)
        && head
            .iter()
            .all(|b| !b.is_ascii_control() || b.is_ascii_whitespace())
    {
        // A single-column text file: still a table.
        return Ok(Format::Csv);
    }
    Err(ReadError::NotSpreadsheet)
}

/// Calls `f` for every non-empty row of every sheet, in order. `f` may stop early. Reads
/// within [`ReadLimits::default`].
pub fn for_each_row(
    path: &Path,
    f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>,
) -> Result<Format, ReadError> {
    for_each_row_limited(path, &ReadLimits::default(), f)
}

/// [`for_each_row`] within `limits`: a file past one of them is refused with
/// [`ReadError::Limit`] before the reader holds the oversized part, cell or row.
pub fn for_each_row_limited(
    path: &Path,
    limits: &ReadLimits,
    f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>,
) -> Result<Format, ReadError> {
    let format = detect(path)?;
    match format {
        Format::Xlsx => read_xlsx(path, limits, f)?,
        Format::Xls => read_xls(path, limits, f)?,
        Format::Csv => read_csv(path, limits, f)?,
    }
    Ok(format)
}

/// The error for a cell, row or column past `limits` in `sheet` (1-based row and column).
fn limit_at(limit: Limit, sheet: &str, row: usize, column: Option<usize>) -> ReadError {
    ReadError::Limit(LimitError {
        limit,
        place: Place {
            sheet: Some(sheet.to_string()),
            row: Some(row),
            column,
            ..Place::default()
        },
    })
}

/// Checks a cell read at 0-based `(row0, col0)` against `limits`.
fn check_cell(
    limits: &ReadLimits,
    sheet: &str,
    row0: usize,
    col0: usize,
    value: &CellValue,
) -> Result<(), ReadError> {
    if row0 >= limits.max_rows {
        return Err(limit_at(
            Limit::Rows(limits.max_rows),
            sheet,
            row0 + 1,
            None,
        ));
    }
    if col0 >= limits.max_columns {
        return Err(limit_at(
            Limit::Columns(limits.max_columns),
            sheet,
            row0 + 1,
            Some(col0 + 1),
        ));
    }
    if let CellValue::Text(t) = value
        && t.len() > limits.max_cell_bytes
    {
        return Err(limit_at(
            Limit::CellBytes(limits.max_cell_bytes),
            sheet,
            row0 + 1,
            Some(col0 + 1),
        ));
    }
    Ok(())
}

fn xlsx_error(e: XlsxError) -> ReadError {
    match e {
        XlsxError::Password => ReadError::Password,
        XlsxError::Io(e) => ReadError::Io(e),
        other => ReadError::Corrupt(other.to_string()),
    }
}

fn data_ref(v: &DataRef<'_>) -> CellValue {
    match v {
        DataRef::Empty => CellValue::Empty,
        DataRef::Int(i) => CellValue::Number(*i as f64),
        DataRef::Float(x) => CellValue::Number(*x),
        DataRef::String(s) => CellValue::Text(clean_text(s)),
        DataRef::SharedString(s) => CellValue::Text(clean_text(s)),
        DataRef::Bool(b) => CellValue::Bool(*b),
        DataRef::DateTime(dt) if dt.is_datetime() => dt
            .as_datetime()
            .map(|d| CellValue::Date(d.date()))
            .unwrap_or(CellValue::Number(dt.as_f64())),
        DataRef::DateTime(dt) => CellValue::Number(dt.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => CellValue::Text(clean_text(s)),
        DataRef::Error(e) => CellValue::Text(format!("#{e:?}")),
    }
}

fn data(v: &calamine::Data) -> CellValue {
    use calamine::Data;
    match v {
        Data::Empty => CellValue::Empty,
        Data::Int(i) => CellValue::Number(*i as f64),
        Data::Float(x) => CellValue::Number(*x),
        Data::String(s) => CellValue::Text(clean_text(s)),
        Data::Bool(b) => CellValue::Bool(*b),
        Data::DateTime(dt) if dt.is_datetime() => dt
            .as_datetime()
            .map(|d| CellValue::Date(d.date()))
            .unwrap_or(CellValue::Number(dt.as_f64())),
        Data::DateTime(dt) => CellValue::Number(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => CellValue::Text(clean_text(s)),
        Data::Error(e) => CellValue::Text(format!("#{e:?}")),
    }
}

/// What filling in merged cells may cost in one sheet, in steps (rows visited, merged regions
/// looked at, cells filled): this many, plus [`FILL_STEPS_PER_CELL`] for every non-empty cell
/// read. The work depends on the merges and the row numbers, not on the file's size: a 5 KB
/// workbook merging `A3:XFD1048576` with one cell in its last row asked for 17 billion steps
/// (found with the `ledger_xlsx` fuzz target). The base covers visiting every row of a sheet
/// (1,048,576) once.
const FILL_STEPS_BASE: u64 = 1_200_000;

/// Steps allowed per non-empty cell read: a ledger row merges fewer household cells than it
/// has cells of its own (members' names, numbers, relations …) times this.
const FILL_STEPS_PER_CELL: u64 = 8;

/// Fills cells covered by vertical or horizontal merges with the merge's top-left value.
struct Merges {
    /// Regions sorted by first row, each with the value of its top-left cell once read.
    regions: Vec<(Dimensions, Option<CellValue>)>,
    /// Regions before this index start at or above the last row applied.
    next: usize,
    /// Indices of the regions that may cover the current row: a row costs only these.
    active: Vec<usize>,
    /// Steps taken so far.
    steps: u64,
    /// Steps allowed so far (grows with the cells read).
    budget: u64,
}

impl Merges {
    fn new(mut regions: Vec<Dimensions>) -> Merges {
        regions.sort_by_key(|d| d.start.0);
        Merges {
            regions: regions.into_iter().map(|d| (d, None)).collect(),
            next: 0,
            active: Vec::new(),
            steps: 0,
            budget: FILL_STEPS_BASE,
        }
    }

    /// Fills row `row0`; refuses the sheet once filling costs more than its budget.
    fn apply(&mut self, row0: u32, cells: &mut Vec<CellValue>) -> Result<(), ReadError> {
        let read = cells.iter().filter(|c| !c.is_empty()).count() as u64;
        self.budget = self.budget.saturating_add(read * FILL_STEPS_PER_CELL);
        // Rows arrive in increasing order (in a well-formed sheet): regions that ended above
        // this row are done, those starting at or above it join.
        let regions = &self.regions;
        self.active.retain(|i| regions[*i].0.end.0 >= row0);
        while let Some((dim, _)) = self.regions.get(self.next)
            && dim.start.0 <= row0
        {
            self.active.push(self.next);
            self.next += 1;
        }
        self.steps += 1 + self.active.len() as u64;
        for i in &self.active {
            let (dim, value) = &mut self.regions[*i];
            if row0 < dim.start.0 || row0 > dim.end.0 {
                continue;
            }
            if row0 == dim.start.0 {
                *value = cells.get(dim.start.1 as usize).cloned();
            }
            let Some(v) = value.clone() else { continue };
            self.steps += u64::from(dim.end.1.saturating_sub(dim.start.1)) + 1;
            if self.steps > self.budget {
                break;
            }
            for c in dim.start.1..=dim.end.1 {
                let c = c as usize;
                if cells.len() <= c {
                    cells.resize(c + 1, CellValue::Empty);
                }
                if cells[c].is_empty() {
                    cells[c] = v.clone();
                }
            }
        }
        if self.steps > self.budget {
            return Err(ReadError::Corrupt(format!(
                "合并单元格覆盖的范围远超表中的数据（第{}行），请取消多余的合并或删除多余的行后再导入 \
                 (merged cells cover far more than the data, at row {})",
                row0 + 1,
                row0 + 1
            )));
        }
        Ok(())
    }
}

fn read_xlsx(
    path: &Path,
    limits: &ReadLimits,
    f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    // Every part calamine reads whole is checked first; each sheet is checked as its merged
    // cells are scanned, just before its rows are read.
    crate::guard::check_workbook(path, limits)?;
    let mut wb: Xlsx<BufReader<File>> = calamine::open_workbook(path).map_err(xlsx_error)?;
    for sheet in wb.sheet_names() {
        let merged = match crate::merges::sheet_merges(path, &sheet, limits) {
            Some(found) => found?,
            None => wb.merge_cells_by_sheet_name(&sheet).map_err(xlsx_error)?,
        };
        let mut merges = Merges::new(merged);
        let mut reader = wb.worksheet_cells_reader(&sheet).map_err(xlsx_error)?;
        let mut current: Option<u32> = None;
        let mut cells: Vec<CellValue> = Vec::new();
        let mut flush =
            |r: u32, cells: &mut Vec<CellValue>| -> Result<ControlFlow<()>, ReadError> {
                merges.apply(r, cells)?;
                if cells.iter().all(CellValue::is_empty) {
                    cells.clear();
                    return Ok(ControlFlow::Continue(()));
                }
                let width = cells.len();
                let flow = f(Row {
                    sheet: &sheet,
                    row: r as usize + 1,
                    cells,
                });
                cells.clear();
                cells.reserve(width);
                Ok(flow)
            };
        while let Some(cell) = reader.next_cell().map_err(xlsx_error)? {
            let (r, c) = cell.get_position();
            if current != Some(r) {
                if let Some(prev) = current {
                    if flush(prev, &mut cells)?.is_break() {
                        return Ok(());
                    }
                    // Rows between the previous and this one may be covered by merges only.
                    for gap in prev + 1..r {
                        if flush(gap, &mut cells)?.is_break() {
                            return Ok(());
                        }
                    }
                }
                current = Some(r);
            }
            let c = c as usize;
            let value = data_ref(cell.get_value());
            if value.is_empty() {
                // A styled empty cell, perhaps far to the right: nothing to keep.
                continue;
            }
            check_cell(limits, &sheet, r as usize, c, &value)?;
            if cells.len() <= c {
                cells.resize(c + 1, CellValue::Empty);
            }
            cells[c] = value;
        }
        if let Some(prev) = current
            && flush(prev, &mut cells)?.is_break()
        {
            return Ok(());
        }
    }
    Ok(())
}

/// `.xls` is not compressed: what calamine builds from it is bounded by the file's size (and
/// the format's 65,536 rows × 256 columns); its cells are checked against `limits` as they are
/// passed on.
fn read_xls(
    path: &Path,
    limits: &ReadLimits,
    f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    // An encrypted .xlsx has the same container as .xls; the xlsx reader says which it is.
    if let Err(XlsxError::Password) = calamine::open_workbook::<Xlsx<_>, _>(path) {
        return Err(ReadError::Password);
    }
    let mut wb: Xls<BufReader<File>> = Xls::new(BufReader::new(File::open(path)?))
        .map_err(|e: calamine::XlsError| ReadError::Corrupt(e.to_string()))?;
    for sheet in wb.sheet_names() {
        let range = wb
            .worksheet_range(&sheet)
            .map_err(|e: calamine::XlsError| ReadError::Corrupt(e.to_string()))?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut merges = Merges::new(wb.merge_cells_by_sheet_name(&sheet).unwrap_or_default());
        for (i, row) in range.rows().enumerate() {
            let mut cells = vec![CellValue::Empty; c0 as usize];
            cells.extend(row.iter().map(data));
            let r = r0 + i as u32;
            for (c, value) in cells.iter().enumerate() {
                if !value.is_empty() {
                    check_cell(limits, &sheet, r as usize, c, value)?;
                }
            }
            merges.apply(r, &mut cells)?;
            if cells.iter().all(CellValue::is_empty) {
                continue;
            }
            if f(Row {
                sheet: &sheet,
                row: r as usize + 1,
                cells: &mut cells,
            })
            .is_break()
            {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Decodes GB18030 (a superset of GBK) to UTF-8 while reading.
struct Gb18030Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl<R: Read> Read for Gb18030Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos >= self.outbuf.len() {
            if self.eof {
                return Ok(0);
            }
            self.inbuf.resize(64 * 1024, 0);
            let n = self.inner.read(&mut self.inbuf)?;
            self.eof = n == 0;
            let mut out = String::with_capacity(n * 3 / 2 + 16);
            let needed = self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16);
            out.reserve(needed);
            let (_, _, _) = self
                .decoder
                .decode_to_string(&self.inbuf[..n], &mut out, self.eof);
            self.outbuf = out.into_bytes();
            self.out_pos = 0;
        }
        let k = buf.len().min(self.outbuf.len() - self.out_pos);
        buf[..k].copy_from_slice(&self.outbuf[self.out_pos..self.out_pos + k]);
        self.out_pos += k;
        Ok(k)
    }
}

/// Which text encoding a CSV file uses: a UTF-8 BOM or valid UTF-8 in the first 64 KiB means
/// UTF-8, anything else is read as GB18030.
fn csv_reader(path: &Path) -> Result<(Box<dyn Read>, u8), ReadError> {
    let mut f = File::open(path)?;
    let mut head = vec![0u8; 64 * 1024];
    let n = f.read(&mut head)?;
    head.truncate(n);
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let sample = if bom { &head[3..] } else { &head[..] };
    // The sample may end inside a multi-byte character: ignore an incomplete tail.
    let utf8 = match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    // The delimiter is the one used most in the first lines (a title line above the table may
    // have none); commas win ties.
    let lines: Vec<&[u8]> = sample.split(|b| *b == b'\n').take(30).collect();
    let most = |d: u8| {
        lines
            .iter()
            .map(|l| l.iter().filter(|b| **b == d).count())
            .max()
            .unwrap_or(0)
    };
    let delimiter = [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|d| most(*d))
        .unwrap_or(b',');
    let rest = std::io::Cursor::new(head.clone()).chain(f);
    let reader: Box<dyn Read> = if utf8 {
        let mut r = BufReader::new(rest);
        if bom {
            let mut skip = [0u8; 3];
            r.read_exact(&mut skip)?;
        }
        Box::new(r)
    } else {
        Box::new(Gb18030Reader {
            inner: rest,
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            out_pos: 0,
            eof: false,
        })
    };
    Ok((reader, delimiter))
}

/// Strips the `'` that the CSV writer puts before text starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return (so that a spreadsheet does not run it as a formula), to read back
/// what was written.
pub(crate) fn strip_formula_guard(t: &str) -> &str {
    match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(crate::write::FORMULA_STARTS) => rest,
        _ => t,
    }
}

/// Reads delimited text with `csv_core`, which hands over each field in pieces: a field, a
/// row or a file past `limits` is refused before it is held.
fn read_csv(
    path: &Path,
    limits: &ReadLimits,
    f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    use csv_core::ReadFieldResult;
    let (mut reader, delimiter) = csv_reader(path)?;
    let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut input = vec![0u8; 64 * 1024];
    let (mut start, mut end, mut eof) = (0usize, 0usize, false);
    let mut out = [0u8; 8 * 1024];
    let mut field: Vec<u8> = Vec::new();
    let mut cells: Vec<CellValue> = Vec::new();
    // The line the current record starts on.
    let mut line = 1usize;
    // Records read (rows, blank ones included, as a spreadsheet would number them).
    let mut records = 0usize;
    loop {
        if start == end && !eof {
            end = loop {
                match reader.read(&mut input) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    other => break other?,
                }
            };
            start = 0;
            eof = end == 0;
        }
        let (res, nin, nout) = core.read_field(&input[start..end], &mut out);
        start += nin;
        field.extend_from_slice(&out[..nout]);
        if field.len() > limits.max_cell_bytes {
            return Err(limit_at(
                Limit::CellBytes(limits.max_cell_bytes),
                "CSV",
                line,
                Some(cells.len() + 1),
            ));
        }
        let record_end = match res {
            ReadFieldResult::InputEmpty if eof => break,
            ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => continue,
            ReadFieldResult::End => break,
            ReadFieldResult::Field { record_end } => record_end,
        };
        if cells.len() >= limits.max_columns {
            if !field.is_empty() {
                return Err(limit_at(
                    Limit::Columns(limits.max_columns),
                    "CSV",
                    line,
                    Some(cells.len() + 1),
                ));
            }
        } else {
            let text = std::str::from_utf8(&field)
                .map_err(|e| ReadError::Corrupt(format!("invalid UTF-8 at line {line}: {e}")))?;
            let t = clean_text(strip_formula_guard(text));
            cells.push(if t.is_empty() {
                CellValue::Empty
            } else {
                CellValue::Text(t)
            });
        }
        field.clear();
        if !record_end {
            continue;
        }
        records += 1;
        let row = line;
        line = usize::try_from(core.line()).unwrap_or(usize::MAX);
        if cells.iter().all(CellValue::is_empty) {
            cells.clear();
            continue;
        }
        if records > limits.max_rows {
            return Err(limit_at(Limit::Rows(limits.max_rows), "CSV", row, None));
        }
        let flow = f(Row {
            sheet: "CSV",
            row,
            cells: &mut cells,
        });
        cells.clear();
        if flow.is_break() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> CellValue {
        CellValue::Text(s.into())
    }

    #[test]
    fn merges_fill_title_household_cells_and_gap_rows() {
        // Out of row order on purpose: the reader sorts them.
        let mut m = Merges::new(vec![
            Dimensions::new((3, 0), (4, 0)),
            Dimensions::new((0, 0), (0, 3)),
            Dimensions::new((5, 1), (7, 1)),
        ]);
        let mut title = vec![text("台账")];
        m.apply(0, &mut title).unwrap();
        assert_eq!(title, vec![text("台账"); 4]);
        let mut rows: Vec<Vec<CellValue>> = vec![
            vec![text("户1"), text("甲")],
            vec![CellValue::Empty, text("乙")],
            vec![text("户2"), text("丙"), text("x")],
            vec![],
            vec![text("户3")],
        ];
        for (i, cells) in rows.iter_mut().enumerate() {
            m.apply(3 + i as u32, cells).unwrap();
        }
        assert_eq!(rows[1], vec![text("户1"), text("乙")]);
        assert_eq!(rows[2], vec![text("户2"), text("丙"), text("x")]);
        // A gap row inside a merge gets the merge's value only.
        assert_eq!(rows[3], vec![CellValue::Empty, text("丙")]);
        assert_eq!(rows[4], vec![text("户3"), text("丙")]);
    }

    #[test]
    fn a_merge_ending_above_its_start_fills_nothing() {
        // `<mergeCell ref="A2:G1"/>`: calamine 0.38 computes its size with an unchecked
        // subtraction (a panic with overflow checks, a reversed region without).
        let mut m = Merges::new(vec![Dimensions::new((1, 6), (0, 0))]);
        for row in 0..3 {
            let mut cells = vec![text("x")];
            m.apply(row, &mut cells).unwrap();
            assert_eq!(cells, vec![text("x")]);
        }
    }

    #[test]
    fn a_merge_over_the_whole_sheet_is_refused_not_a_hang() {
        // Found with the `ledger_xlsx` fuzz target: `A3:XFD1048576` and a cell in the last row
        // made the reader fill 16,384 cells in each of a million rows.
        let mut m = Merges::new(vec![Dimensions::new((2, 0), (1_048_575, 16_383))]);
        let mut refused = None;
        for row in 2..1_048_576 {
            let mut cells = if row == 2 {
                vec![CellValue::Number(1.0)]
            } else {
                Vec::new()
            };
            if let Err(e) = m.apply(row, &mut cells) {
                refused = Some((row, e));
                break;
            }
            assert_eq!(cells.len(), 16_384);
        }
        let (row, e) = refused.expect("refused");
        assert!(row < 1_000, "{row}");
        assert!(e.message_zh().contains("合并单元格"), "{e}");
    }

    #[test]
    fn a_large_ledger_with_merged_household_cells_is_read() {
        // A million member rows, households of four, twelve household columns merged over their
        // members and twenty member columns.
        let regions = (0..250_000u32)
            .flat_map(|h| (0..12).map(move |c| Dimensions::new((4 * h, c), (4 * h + 3, c))))
            .collect();
        let mut m = Merges::new(regions);
        for row in 0..1_000_000u32 {
            let mut cells = vec![CellValue::Empty; 12];
            if row % 4 == 0 {
                cells.fill(CellValue::Number(1.0));
            }
            cells.extend(std::iter::repeat_n(CellValue::Number(2.0), 20));
            m.apply(row, &mut cells).unwrap();
            assert!(!cells[11].is_empty());
        }
    }

    #[test]
    fn rows_far_apart_cost_only_the_merges_that_cover_them() {
        // Many small merges near the top and rows far below: each row looks only at the merges
        // that cover it, so a million rows take a million steps, not a million times 10,000.
        let regions = (0..10_000)
            .map(|i| Dimensions::new((i, 0), (i, 1)))
            .collect();
        let mut m = Merges::new(regions);
        for row in 0..1_048_576 {
            m.apply(row, &mut Vec::new()).unwrap();
        }
        assert!(m.steps < 1_100_000, "{}", m.steps);
    }
}
