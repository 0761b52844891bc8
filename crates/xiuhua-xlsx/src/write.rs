//! Writing spreadsheets: `.xlsx` with a bold frozen header row, sensible column widths,
//! identity numbers as text and dates as real dates (streamed in constant memory, so a
//! million-row export does not hold the workbook in RAM); CSV in UTF-8 with a BOM so Excel opens
//! it correctly; and error workbooks (the original rows plus a reason column, bad cells
//! highlighted).

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::cell::CellValue;

/// How a column is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text (identity numbers, codes, names: never converted to numbers).
    Text,
    /// A number.
    Number,
    /// A date (written as a real Excel date).
    Date,
}

/// A column of an export.
#[derive(Clone, Debug)]
pub struct Column {
    /// Chinese header.
    pub header: String,
    /// How values are written.
    pub kind: Kind,
    /// Width in characters.
    pub width: f64,
}

impl Column {
    /// A column whose width suits its header and kind.
    pub fn new(header: &str, kind: Kind) -> Column {
        let base = match kind {
            Kind::Text => 10.0,
            Kind::Number => 9.0,
            Kind::Date => 11.0,
        };
        let header_width = header
            .chars()
            .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
            .sum::<f64>()
            + 2.0;
        Column {
            header: header.to_string(),
            kind,
            width: header_width.max(base),
        }
    }

    /// Sets the width.
    pub fn width(mut self, w: f64) -> Column {
        self.width = w;
        self
    }
}

/// A value to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A date.
    Date(NaiveDate),
}

impl From<&str> for Out {
    fn from(s: &str) -> Out {
        if s.is_empty() {
            Out::Empty
        } else {
            Out::Text(s.to_string())
        }
    }
}
impl From<String> for Out {
    fn from(s: String) -> Out {
        if s.is_empty() {
            Out::Empty
        } else {
            Out::Text(s)
        }
    }
}
impl From<Option<String>> for Out {
    fn from(s: Option<String>) -> Out {
        s.map(Out::from).unwrap_or(Out::Empty)
    }
}
impl From<Option<NaiveDate>> for Out {
    fn from(d: Option<NaiveDate>) -> Out {
        d.map(Out::Date).unwrap_or(Out::Empty)
    }
}
impl From<Option<i64>> for Out {
    fn from(v: Option<i64>) -> Out {
        v.map(|v| Out::Number(v as f64)).unwrap_or(Out::Empty)
    }
}

/// Why writing failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// From the xlsx writer.
    #[error(transparent)]
    Xlsx(#[from] XlsxError),
    /// From the file system.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// From the CSV writer.
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

/// Streams rows into an `.xlsx` sheet.
pub struct XlsxTable {
    workbook: Workbook,
    row: u32,
    columns: Vec<Column>,
    date: Format,
    text: Format,
    bad: Format,
}

impl XlsxTable {
    /// Starts a workbook with one sheet and its header row.
    pub fn new(sheet: &str, columns: Vec<Column>) -> Result<XlsxTable, WriteError> {
        let mut workbook = Workbook::new();
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xE8EDF3))
            .set_border(FormatBorder::Thin);
        // Rows go to a temporary file as they come; text goes into a shared string table, as
        // Excel and WPS write it: the sheet is a third smaller than with inline strings and
        // reads faster (each repeated label — 汉族, 健康, 本人或户主 — is stored once). The
        // table holds each distinct string in memory (a 1M-row ledger export peaked at 452 MB
        // RSS, 125 MB with inline strings).
        let ws = workbook.add_worksheet_with_low_memory()?;
        ws.set_name(sheet)?;
        for (i, c) in columns.iter().enumerate() {
            ws.set_column_width(i as u16, c.width)?;
            ws.write_string_with_format(0, i as u16, &c.header, &header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        Ok(XlsxTable {
            workbook,
            row: 0,
            columns,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            text: Format::new().set_num_format("@"),
            bad: Format::new()
                .set_background_color(Color::RGB(0xFFC7CE))
                .set_font_color(Color::RGB(0x9C0006)),
        })
    }

    fn sheet(&mut self) -> Result<&mut Worksheet, WriteError> {
        Ok(self.workbook.worksheet_from_index(0)?)
    }

    /// Appends a row; `bad` lists 0-based columns to highlight.
    pub fn push(&mut self, values: &[Out], bad: &[usize]) -> Result<(), WriteError> {
        self.row += 1;
        let row = self.row;
        let kinds: Vec<Kind> = self.columns.iter().map(|c| c.kind).collect();
        let (date, text, bad_fmt) = (self.date.clone(), self.text.clone(), self.bad.clone());
        let ws = self.sheet()?;
        for (i, v) in values.iter().enumerate() {
            let col = i as u16;
            let highlight = bad.contains(&i);
            match (v, kinds.get(i).copied().unwrap_or(Kind::Text)) {
                (Out::Empty, _) if highlight => {
                    ws.write_blank(row, col, &bad_fmt)?;
                }
                (Out::Empty, _) => {}
                (Out::Date(d), _) => {
                    ws.write_datetime_with_format(
                        row,
                        col,
                        *d,
                        if highlight { &bad_fmt } else { &date },
                    )?;
                }
                (Out::Number(n), Kind::Number) => {
                    if highlight {
                        ws.write_number_with_format(row, col, *n, &bad_fmt)?;
                    } else {
                        ws.write_number(row, col, *n)?;
                    }
                }
                (Out::Number(n), _) => {
                    ws.write_string_with_format(
                        row,
                        col,
                        crate::cell::number_text(*n),
                        if highlight { &bad_fmt } else { &text },
                    )?;
                }
                (Out::Text(t), _) => {
                    ws.write_string_with_format(
                        row,
                        col,
                        t,
                        if highlight { &bad_fmt } else { &text },
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Writes the workbook to a file.
    pub fn save(mut self, path: &Path) -> Result<(), WriteError> {
        self.workbook.save(path)?;
        Ok(())
    }

    /// The workbook as bytes (for downloads).
    pub fn into_bytes(mut self) -> Result<Vec<u8>, WriteError> {
        Ok(self.workbook.save_to_buffer()?)
    }
}

/// What a text cell may start with that a spreadsheet opening a CSV takes for a formula
/// (OWASP "CSV injection": `=HYPERLINK(…)`, `+cmd|…`, `-2+3`, `@SUM(…)`, and a tab or carriage
/// return before one of them).
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written to CSV: one starting with a [`FORMULA_STARTS`] character gets a `'`
/// before it, so that Excel and WPS show it as text instead of running it. The ledger reader
/// takes the `'` off again (`-韦` is written `'-韦` and read back `-韦`). Numbers are never
/// prefixed: `-5` written as a number stays `-5`.
pub fn csv_text(t: &str) -> std::borrow::Cow<'_, str> {
    if t.starts_with(FORMULA_STARTS) {
        std::borrow::Cow::Owned(format!("'{t}"))
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

/// Streams rows into a CSV file (UTF-8 with BOM). Text cells that a spreadsheet would take for
/// a formula are written with a `'` before them ([`csv_text`]).
pub struct CsvTable<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvTable<W> {
    /// Starts a CSV with its header row.
    pub fn new(mut out: W, columns: &[Column]) -> Result<CsvTable<W>, WriteError> {
        out.write_all(&[0xEF, 0xBB, 0xBF])?;
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(columns.iter().map(|c| csv_text(&c.header).into_owned()))?;
        Ok(CsvTable { writer })
    }

    /// Appends a row.
    pub fn push(&mut self, values: &[Out]) -> Result<(), WriteError> {
        self.writer.write_record(values.iter().map(|v| match v {
            Out::Empty => String::new(),
            Out::Text(t) => csv_text(t).into_owned(),
            Out::Number(n) => crate::cell::number_text(*n),
            Out::Date(d) => d.to_string(),
        }))?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W, WriteError> {
        self.writer
            .into_inner()
            .map_err(|e| WriteError::Io(e.into_error()))
    }
}

/// One problem to mark in an error workbook.
#[derive(Clone, Debug)]
pub struct RowProblem {
    /// 0-based column of the bad cell, if the problem is in one cell.
    pub column: Option<usize>,
    /// Reason in Chinese (empty: the cell is only marked, as the other cell a disagreement
    /// names, and its reason is given once, at the first cell).
    pub reason: String,
}

/// Writes an error workbook: the header, then each bad row as it was read, with a 错误原因
/// column and the bad cells highlighted, so the user can fix the rows and import them again.
pub fn error_workbook(
    header: &[String],
    rows: &[(usize, Vec<CellValue>, Vec<RowProblem>)],
) -> Result<Vec<u8>, WriteError> {
    let mut columns: Vec<Column> = vec![Column::new("原行号", Kind::Number).width(8.0)];
    columns.extend(header.iter().map(|h| Column::new(h, Kind::Text)));
    columns.push(Column::new("错误原因", Kind::Text).width(60.0));
    let mut t = XlsxTable::new("错误行", columns)?;
    for (row, cells, problems) in rows {
        let mut values = vec![Out::Number(*row as f64)];
        values.extend(cells.iter().map(|c| match c {
            CellValue::Date(d) => Out::Date(*d),
            other => Out::from(other.display()),
        }));
        values.resize(header.len() + 1, Out::Empty);
        values.push(Out::Text(
            problems
                .iter()
                .map(|p| p.reason.as_str())
                .filter(|r| !r.is_empty())
                .collect::<Vec<_>>()
                .join("；"),
        ));
        let bad: Vec<usize> = problems
            .iter()
            .filter_map(|p| p.column.map(|c| c + 1))
            .collect();
        t.push(&values, &bad)?;
    }
    t.into_bytes()
}

/// One sheet of a small workbook: name, columns, rows.
pub type Sheet = (String, Vec<Column>, Vec<Vec<Out>>);

/// A small multi-sheet workbook (statistics tables).
pub fn tables_workbook(sheets: &[Sheet]) -> Result<Vec<u8>, WriteError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xE8EDF3))
        .set_border(FormatBorder::Thin);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (name, columns, rows) in sheets {
        let ws = workbook.add_worksheet();
        ws.set_name(name)?;
        for (i, c) in columns.iter().enumerate() {
            ws.set_column_width(i as u16, c.width)?;
            ws.write_string_with_format(0, i as u16, &c.header, &header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (i, v) in row.iter().enumerate() {
                let c = i as u16;
                match v {
                    Out::Empty => {}
                    Out::Text(t) => {
                        ws.write_string(r, c, t)?;
                    }
                    Out::Number(n) => {
                        ws.write_number(r, c, *n)?;
                    }
                    Out::Date(d) => {
                        ws.write_datetime_with_format(r, c, *d, &date)?;
                    }
                }
            }
        }
    }
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_goes_into_a_shared_string_table() {
        let mut t = XlsxTable::new(
            "台账",
            vec![
                Column::new("民族", Kind::Text),
                Column::new("人数", Kind::Number),
            ],
        )
        .unwrap();
        for i in 0..100 {
            t.push(&[Out::Text("汉族".into()), Out::Number(f64::from(i))], &[])
                .unwrap();
        }
        let bytes = t.into_bytes().unwrap();
        // Member names are stored uncompressed in a zip's directory.
        let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
        assert!(has(b"xl/sharedStrings.xml"));
        let file = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        let mut rows = 0;
        crate::source::for_each_row(file.path(), &mut |r| {
            if r.row > 1 {
                assert_eq!(r.cells[0], CellValue::Text("汉族".into()));
                rows += 1;
            }
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(rows, 100);
    }
}
