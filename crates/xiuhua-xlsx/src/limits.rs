//! How much a file may make the readers hold or inflate: the defence against decompression
//! bombs (a 2 MB `.xlsx` whose one inline-string cell inflates to 2 GiB drove the server to
//! 10 GB RSS). Every reader (`.xlsx`, `.xls`, `.csv`) is given a [`ReadLimits`] and refuses a
//! file past one of them with [`ReadError::Limit`](crate::ReadError::Limit), naming the limit
//! and where it was passed — before holding the oversized thing in memory.

use std::fmt;

use xiuhua_domain::message::{Message, msg};

/// Limits of one read. [`ReadLimits::default`] suits real ledgers (see each field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// Inflated size of one zip entry that the reader holds in memory whole (shared strings,
    /// styles, the workbook part, relationships …). Default 512 MiB: the shared strings of a
    /// 1M-row ledger (every name, identity number and account distinct) are under 100 MB.
    pub max_entry_bytes: u64,
    /// Inflated size of one worksheet part, which is streamed cell by cell (this bounds the
    /// time spent inflating, not memory). Default 4 GiB: a 1M-row sheet of 50 columns is
    /// about 2 GB of XML (measured by `a_million_rows_of_fifty_columns_fit_the_defaults`).
    pub max_sheet_bytes: u64,
    /// Bytes of one cell as stored: its text in UTF-8 (CSV), or its XML element with its markup
    /// (`<c>…</c>` in a sheet, `<si>…</si>` in the shared strings; escapes such as `&amp;` count
    /// as written), and any single XML tag, text run, comment or CDATA section. Default
    /// 128 KiB: Excel holds at most 32,767 UTF-16 units in a cell, at most 98,301 bytes of
    /// UTF-8, plus room for rich-text markup.
    pub max_cell_bytes: usize,
    /// Rows of one sheet (by row number). Default 2,000,000 (Excel has 1,048,576; a CSV may
    /// hold more, but a ledger of two million people is a province, not a county).
    pub max_rows: usize,
    /// Columns of one sheet (a non-empty cell further right is refused; empty ones are
    /// ignored). Default 1,000: a full ledger has about 60.
    pub max_columns: usize,
}

impl Default for ReadLimits {
    fn default() -> ReadLimits {
        ReadLimits {
            max_entry_bytes: 512 << 20,
            max_sheet_bytes: 4 << 30,
            max_cell_bytes: 128 << 10,
            max_rows: 2_000_000,
            max_columns: 1_000,
        }
    }
}

/// Which limit was passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`ReadLimits::max_entry_bytes`] or [`ReadLimits::max_sheet_bytes`].
    EntryBytes(u64),
    /// [`ReadLimits::max_cell_bytes`].
    CellBytes(usize),
    /// [`ReadLimits::max_rows`].
    Rows(usize),
    /// [`ReadLimits::max_columns`].
    Columns(usize),
}

/// Where in the file a limit was passed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Place {
    /// The zip entry (`xl/worksheets/sheet1.xml`), if any.
    pub entry: Option<String>,
    /// The sheet (`CSV` for text files), if known.
    pub sheet: Option<String>,
    /// 1-based row, if known.
    pub row: Option<usize>,
    /// 1-based column, if known.
    pub column: Option<usize>,
    /// 1-based item of the shared string table, if the place is there.
    pub shared_string: Option<usize>,
}

/// A file refused because it passes one of its [`ReadLimits`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitError {
    /// The limit passed.
    pub limit: Limit,
    /// Where.
    pub place: Place,
}

/// `1048576` → `1 MiB`, `1536` → `1.5 KiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() == 0.0 {
        format!("{v} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Excel's column letters for a 1-based column: 1 → `A`, 28 → `AB`.
pub(crate) fn column_letters(mut c: usize) -> String {
    let mut out = Vec::new();
    while c > 0 {
        let d = (c - 1) % 26;
        out.push(b'A' + d as u8);
        c = (c - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl LimitError {
    fn place_en(&self) -> String {
        let p = &self.place;
        let mut parts = Vec::new();
        if let Some(s) = &p.sheet {
            parts.push(format!("sheet {s}"));
        }
        if let Some(r) = p.row {
            parts.push(format!("row {r}"));
        }
        if let Some(c) = p.column {
            parts.push(format!("column {} ({c})", column_letters(c)));
        }
        if let Some(i) = p.shared_string {
            parts.push(format!("shared string {i}"));
        }
        if let Some(e) = &p.entry {
            parts.push(format!("part {e}"));
        }
        parts.join(", ")
    }

    fn place_zh(&self) -> String {
        let p = &self.place;
        let mut s = String::new();
        if let Some(sheet) = &p.sheet {
            s.push_str(&format!("工作表“{sheet}”"));
        }
        if let Some(r) = p.row {
            s.push_str(&format!("第{r}行"));
        }
        if let Some(c) = p.column {
            s.push_str(&format!("第{}列（{c}）", column_letters(c)));
        }
        if let Some(i) = p.shared_string {
            s.push_str(&format!("共享字符串表第{i}项"));
        }
        if let Some(e) = &p.entry {
            if !s.is_empty() {
                s.push('，');
            }
            s.push_str(&format!("文件内部件 {e}"));
        }
        s
    }

    /// The reason as a message of the catalogue (`xiuhua_domain::message`), with the place in
    /// both languages.
    pub fn message(&self) -> Message {
        let (zh, en) = (self.place_zh(), self.place_en());
        let at = if zh.is_empty() {
            zh
        } else {
            format!("（{zh}）")
        };
        let at_en = if en.is_empty() {
            en
        } else {
            format!(" at {en}")
        };
        let m = |key| msg(key).arg("at", &at).arg("at_en", &at_en);
        match self.limit {
            Limit::EntryBytes(n) => m("limit_entry_bytes").arg("max", bytes(n)),
            Limit::CellBytes(n) => m("limit_cell_bytes").arg("max", bytes(n as u64)),
            Limit::Rows(n) => m("limit_rows").arg("max", n),
            Limit::Columns(n) => m("limit_columns").arg("max", n),
        }
    }

    /// The reason in Chinese.
    pub fn message_zh(&self) -> String {
        self.message().zh()
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message().en())
    }
}

impl std::error::Error for LimitError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_letters_read_well() {
        assert_eq!(bytes(512 << 20), "512 MiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(10), "10 B");
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(28), "AB");
        assert_eq!(column_letters(16_384), "XFD");
    }

    #[test]
    fn messages_name_the_limit_and_the_place() {
        let e = LimitError {
            limit: Limit::CellBytes(128 << 10),
            place: Place {
                sheet: Some("台账".into()),
                row: Some(7),
                column: Some(2),
                ..Place::default()
            },
        };
        assert_eq!(
            e.message_zh(),
            "单元格内容过长（工作表“台账”第7行第B列（2））：超过128 KiB的上限，请删除或缩短该单元格后再导入"
        );
        assert_eq!(
            e.to_string(),
            "a cell is longer than 128 KiB (max cell size) at sheet 台账, row 7, column B (2)"
        );
    }
}
