//! Reading rows from a spreadsheet file: `.xlsx` (streamed cell by cell, merged cells filled
//! down), legacy `.xls`, and `.csv` in UTF-8, UTF-8 with BOM, or GBK/GB18030 (what Chinese Excel
//! writes). The format is decided by the file's content, not its name.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use calamine::{DataRef, Dimensions, Reader, Xls, Xlsx, XlsxError};

use crate::cell::{CellValue, clean_text};

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
    /// The file could not be opened.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// The reason in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            ReadError::Empty => "文件是空的".into(),
            ReadError::NotSpreadsheet => "文件不是Excel工作簿（.xlsx/.xls）或CSV文件".into(),
            ReadError::Password => "工作簿设有打开密码，请取消密码后再导入".into(),
            ReadError::Corrupt(m) => format!("工作簿已损坏，无法读取：{m}"),
            ReadError::Io(e) => format!("无法打开文件：{e}"),
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
    /// The cells, left to right (trailing empty cells may be missing).
    pub cells: &'a [CellValue],
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

/// Calls `f` for every non-empty row of every sheet, in order. `f` may stop early.
pub fn for_each_row(
    path: &Path,
    f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>,
) -> Result<Format, ReadError> {
    let format = detect(path)?;
    match format {
        Format::Xlsx => read_xlsx(path, f)?,
        Format::Xls => read_xls(path, f)?,
        Format::Csv => read_csv(path, f)?,
    }
    Ok(format)
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

/// Fills cells covered by vertical or horizontal merges with the merge's top-left value.
struct Merges {
    regions: Vec<(Dimensions, Option<CellValue>)>,
}

impl Merges {
    fn apply(&mut self, row0: u32, cells: &mut Vec<CellValue>) {
        for (dim, value) in &mut self.regions {
            if row0 < dim.start.0 || row0 > dim.end.0 {
                continue;
            }
            if row0 == dim.start.0 {
                *value = cells.get(dim.start.1 as usize).cloned();
            }
            let Some(v) = value.clone() else { continue };
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
    }
}

fn read_xlsx(path: &Path, f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>) -> Result<(), ReadError> {
    let mut wb: Xlsx<BufReader<File>> = calamine::open_workbook(path).map_err(xlsx_error)?;
    for sheet in wb.sheet_names() {
        let merged = wb.merge_cells_by_sheet_name(&sheet).map_err(xlsx_error)?;
        let mut merges = Merges {
            regions: merged.into_iter().map(|d| (d, None)).collect(),
        };
        let mut reader = wb.worksheet_cells_reader(&sheet).map_err(xlsx_error)?;
        let mut current: Option<u32> = None;
        let mut cells: Vec<CellValue> = Vec::new();
        let mut flush = |r: u32, cells: &mut Vec<CellValue>| -> ControlFlow<()> {
            merges.apply(r, cells);
            if cells.iter().all(CellValue::is_empty) {
                cells.clear();
                return ControlFlow::Continue(());
            }
            let flow = f(Row {
                sheet: &sheet,
                row: r as usize + 1,
                cells,
            });
            cells.clear();
            flow
        };
        while let Some(cell) = reader.next_cell().map_err(xlsx_error)? {
            let (r, c) = cell.get_position();
            if current != Some(r) {
                if let Some(prev) = current {
                    if flush(prev, &mut cells).is_break() {
                        return Ok(());
                    }
                    // Rows between the previous and this one may be covered by merges only.
                    for gap in prev + 1..r {
                        if flush(gap, &mut cells).is_break() {
                            return Ok(());
                        }
                    }
                }
                current = Some(r);
            }
            let c = c as usize;
            if cells.len() <= c {
                cells.resize(c + 1, CellValue::Empty);
            }
            cells[c] = data_ref(cell.get_value());
        }
        if let Some(prev) = current
            && flush(prev, &mut cells).is_break()
        {
            return Ok(());
        }
    }
    Ok(())
}

fn read_xls(path: &Path, f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>) -> Result<(), ReadError> {
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
        let mut merges = Merges {
            regions: wb
                .merge_cells_by_sheet_name(&sheet)
                .unwrap_or_default()
                .into_iter()
                .map(|d| (d, None))
                .collect(),
        };
        for (i, row) in range.rows().enumerate() {
            let mut cells = vec![CellValue::Empty; c0 as usize];
            cells.extend(row.iter().map(data));
            let r = r0 + i as u32;
            merges.apply(r, &mut cells);
            if cells.iter().all(CellValue::is_empty) {
                continue;
            }
            if f(Row {
                sheet: &sheet,
                row: r as usize + 1,
                cells: &cells,
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

fn read_csv(path: &Path, f: &mut dyn FnMut(Row<'_>) -> ControlFlow<()>) -> Result<(), ReadError> {
    let (reader, delimiter) = csv_reader(path)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    let mut cells: Vec<CellValue> = Vec::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(ReadError::Corrupt(e.to_string())),
        }
        cells.clear();
        cells.extend(record.iter().map(|t| {
            let t = clean_text(t);
            if t.is_empty() {
                CellValue::Empty
            } else {
                CellValue::Text(t)
            }
        }));
        if cells.iter().all(CellValue::is_empty) {
            continue;
        }
        let row = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if f(Row {
            sheet: "CSV",
            row,
            cells: &cells,
        })
        .is_break()
        {
            break;
        }
    }
    Ok(())
}
