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

    /// Whether the sheet has a column of this field (empty or not in this row).
    pub fn has_column(&self, f: Field) -> bool {
        self.columns.iter().any(|&(x, _, _)| x == f)
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
    /// Required columns the header does not have (户编号, 与户主关系): reported once for the
    /// sheet, not as a missing value on every row.
    pub missing: Vec<Field>,
}

/// Columns a ledger must have beside 姓名 and 证件号码 (without which no header is found).
const REQUIRED_COLUMNS: &[Field] = &[Field::HOUSEHOLD_NO, Field::RELATION];

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
    /// Rows below a header that are not households' (totals, footers, notes, repeated headers
    /// and titles), in file order: skipped, and reported as notices.
    pub skipped_rows: Vec<SkippedRow>,
}

/// What a row below the header that holds no household is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipKind {
    /// 合计 / 小计 / 总计 (a sum over the rows above).
    Total,
    /// 填表人, 审核人, 联系电话, 填报日期, 单位（盖章）…: who filled in the form.
    Footer,
    /// 注：/ 备注 / 说明 under the table.
    Note,
    /// The header again (printed pages repeat it).
    Header,
    /// A title (one text across the row), e.g. the table's name repeated on a printed page.
    Title,
}

impl SkipKind {
    /// The message key of the notice for a skipped row of this kind.
    pub fn message_key(self) -> &'static str {
        match self {
            SkipKind::Total => "ledger_skipped_total",
            SkipKind::Footer => "ledger_skipped_footer",
            SkipKind::Note => "ledger_skipped_note",
            SkipKind::Header => "ledger_skipped_header",
            SkipKind::Title => "ledger_skipped_title",
        }
    }

    /// A stable name of the kind (`total`, `footer`, `note`, `header`, `title`).
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::Total => "total",
            SkipKind::Footer => "footer",
            SkipKind::Note => "note",
            SkipKind::Header => "header",
            SkipKind::Title => "title",
        }
    }
}

/// A row that was recognised as not a household's and skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRow {
    /// Sheet name.
    pub sheet: String,
    /// 1-based row number as Excel shows it.
    pub row: usize,
    /// What the row is.
    pub kind: SkipKind,
    /// Its first non-empty cell, as written.
    pub text: String,
}

impl SkippedRow {
    /// The notice for this row (`{row}`, `{text}`).
    pub fn message(&self) -> Message {
        msg(self.kind.message_key())
            .arg("row", self.row)
            .arg("text", &self.text)
    }
}

/// The letters of a 1-based column number, as Excel shows them (1 → A, 27 → AA).
pub fn column_letter(mut column: usize) -> String {
    let mut out = Vec::new();
    while column > 0 {
        let r = (column - 1) % 26;
        out.push(b'A' + r as u8);
        column = (column - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// How a row's first text begins when it is a sum: 合计, 小计, 总计 …
const TOTAL_STARTS: &[&str] = &[
    "合计",
    "小计",
    "总计",
    "共计",
    "累计",
    "本页合计",
    "本页小计",
];

/// How a footer begins: who filled in, checked and stamped the form.
const FOOTER_STARTS: &[&str] = &[
    "填表人",
    "填报人",
    "制表人",
    "统计人",
    "审核人",
    "审核",
    "审批人",
    "负责人",
    "联系人",
    "联系电话",
    "填报日期",
    "填表日期",
    "制表日期",
    "报送日期",
    "日期:",
    "单位(盖章)",
    "填报单位",
    "盖章",
    "签字",
    "签名",
    "村委会(盖章)",
    "乡镇(盖章)",
];

/// How a note under the table begins.
const NOTE_STARTS: &[&str] = &["备注", "说明", "填表说明", "附注", "注意"];

/// Compact form of a cell's text for classifying rows: no spaces, half-width brackets and colon.
fn compact(t: &str) -> String {
    t.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '：' => ':',
            other => other,
        })
        .collect()
}

/// Whether a compact text is a note: 注：…, 注1. …, 注、…, or one of [`NOTE_STARTS`].
fn is_note(t: &str) -> bool {
    if NOTE_STARTS.iter().any(|p| t.starts_with(p)) {
        return true;
    }
    t.strip_prefix('注').is_some_and(|rest| {
        rest.starts_with([':', '、', '.', '①', '('])
            || rest.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// What a row below the header is when it holds no household; `None` for a data row.
fn classify(
    cat: Cat<'_>,
    header: &SheetHeader,
    above: &[CellValue],
    cells: &[CellValue],
    extra: &[(String, String)],
) -> Option<(SkipKind, String)> {
    let mut texts = cells.iter().filter(|c| !c.is_empty());
    let first = texts.next()?;
    let first_text = first.display();
    let c = compact(&first_text);
    if TOTAL_STARTS.iter().any(|p| c.starts_with(p)) {
        return Some((SkipKind::Total, first_text));
    }
    if FOOTER_STARTS.iter().any(|p| c.starts_with(p)) {
        return Some((SkipKind::Footer, first_text));
    }
    if is_note(&c) {
        return Some((SkipKind::Note, first_text));
    }
    // The header again: its name column holds a name header (cheap test first).
    let name_col = header.fields.iter().position(|f| *f == Some(Field::NAME));
    if let Some(i) = name_col
        && let Some(CellValue::Text(t)) = cells.get(i)
        && cat.field_of(t, extra) == Some(Field::NAME)
        && header_score(cat, cells, extra).1
    {
        return Some((SkipKind::Header, first_text));
    }
    // The upper row of a two-row header again.
    if !above.is_empty() && same_cells(above, cells) {
        return Some((SkipKind::Header, first_text));
    }
    // One text across the row (merged, or written once per cell), or a lone text cell in a row
    // whose name and identity columns are empty.
    let rest: Vec<&CellValue> = texts.collect();
    if matches!(first, CellValue::Text(_)) && !rest.is_empty() && rest.iter().all(|v| *v == first) {
        return Some((SkipKind::Title, first_text));
    }
    None
}

/// Whether two rows hold the same non-empty cells.
fn same_cells(a: &[CellValue], b: &[CellValue]) -> bool {
    let n = a.len().max(b.len());
    (0..n).all(|i| {
        let x = a.get(i).unwrap_or(&EMPTY);
        let y = b.get(i).unwrap_or(&EMPTY);
        x.is_empty() && y.is_empty() || x == y
    })
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
    above: &[CellValue],
    extra: &[(String, String)],
) -> SheetHeader {
    // A two-row header: a column named only in the row above (its cell merged down, or a CSV
    // that leaves the lower cell blank) takes that name.
    let width = cells.len().max(above.len());
    let names: Vec<String> = (0..width)
        .map(|i| match cells.get(i) {
            Some(c) if !c.is_empty() => c.display(),
            _ => above.get(i).map(CellValue::display).unwrap_or_default(),
        })
        .collect();
    let fields: Vec<Option<Field>> = names.iter().map(|n| cat.field_of(n, extra)).collect();
    let unknown = names
        .iter()
        .enumerate()
        .filter(|(i, n)| !n.is_empty() && fields[*i].is_none())
        .map(|(i, n)| (i + 1, n.clone()))
        .collect();
    let missing = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|f| !fields.contains(&Some(*f)))
        .collect();
    SheetHeader {
        sheet: sheet.to_string(),
        row,
        names,
        fields,
        unknown,
        missing,
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

/// The row above a header when it is the upper row of a two-row header: it names a column the
/// header row leaves blank, or spans columns with group labels (家庭成员信息). Otherwise (a
/// title, a date line) nothing.
fn upper_header_row(above: &[CellValue], header: &[CellValue]) -> Vec<CellValue> {
    let texts: Vec<&CellValue> = above.iter().filter(|c| !c.is_empty()).collect();
    let distinct = texts
        .iter()
        .enumerate()
        .filter(|(i, c)| !texts[..*i].contains(c))
        .count();
    let fills_blank = above
        .iter()
        .enumerate()
        .any(|(i, c)| !c.is_empty() && header.get(i).is_none_or(CellValue::is_empty));
    if distinct >= 2 && fills_blank {
        above.to_vec()
    } else {
        Vec::new()
    }
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
    // The row above the header (the upper row of a two-row header), and, once the header is
    // found, that row again if it was a header's upper row (to recognise it when repeated).
    let mut above: Vec<CellValue> = Vec::new();
    let mut skipped: Vec<SkippedRow> = Vec::new();
    let mut handle = |r: Row<'_>| -> ControlFlow<()> {
        if r.sheet != &*current_sheet {
            current_sheet = Arc::from(r.sheet);
            header = None;
            pending = 0;
            above.clear();
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
                    let upper = upper_header_row(&above, r.cells);
                    let h = make_header(cat, r.sheet, r.row, r.cells, &upper, extra);
                    above = upper;
                    let columns: Columns = h
                        .fields
                        .iter()
                        .enumerate()
                        .filter_map(|(i, f)| f.filter(|f| *f != Field::IGNORED).map(|f| (f, i)))
                        .map(|(f, i)| (f, i, cat.fields.get(f).level == Level::Member))
                        .collect();
                    info.sheets.push(h.clone());
                    header = Some((Arc::new(h), columns));
                } else {
                    above = r.cells.clone();
                }
                ControlFlow::Continue(())
            }
            Some((h, columns)) => {
                if let Some((kind, text)) = classify(cat, h, &above, r.cells, extra) {
                    skipped.push(SkippedRow {
                        sheet: r.sheet.to_string(),
                        row: r.row,
                        kind,
                        text,
                    });
                    return ControlFlow::Continue(());
                }
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
    info.skipped_rows = skipped;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read_csv(text: &str) -> (LedgerInfo, Vec<LedgerRow>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut rows = Vec::new();
        let info = read_ledger(&path, &[], &mut |_, r| {
            rows.push(r);
            ControlFlow::Continue(())
        })
        .unwrap();
        (info, rows)
    }

    fn kinds(info: &LedgerInfo) -> Vec<(usize, SkipKind)> {
        info.skipped_rows.iter().map(|r| (r.row, r.kind)).collect()
    }

    #[test]
    fn rows_that_are_not_households_are_skipped_and_named() {
        let (info, rows) = read_csv(
            "某县建档立卡户台账,,,,\n\
             户号,姓名,身份证号,关系,帮扶人\n\
             1,韦一,451228197001020011,户主,张\n\
             ,蓝二,451228197203040021,妻子,\n\
             小 计,,,,1户\n\
             户号,姓名,身份证号,关系,帮扶人\n\
             2,黄三,451228196505060013,本人,\n\
             合计,,,,2户\n\
             注：本表由村委会填写。,,,,\n\
             备注：无\n\
             填表人：黄,,审核人：蓝,,\n\
             联系电话：0778-5212345\n\
             单位（盖章）：\n\
             填报日期：2024年3月1日\n\
             某县台账,某县台账,某县台账,,\n",
        );
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [3, 4, 7]);
        assert_eq!(
            kinds(&info),
            [
                (5, SkipKind::Total),
                (6, SkipKind::Header),
                (8, SkipKind::Total),
                (9, SkipKind::Note),
                (10, SkipKind::Note),
                (11, SkipKind::Footer),
                (12, SkipKind::Footer),
                (13, SkipKind::Footer),
                (14, SkipKind::Footer),
                (15, SkipKind::Title),
            ]
        );
        assert_eq!(info.skipped_rows[0].text, "小 计");
        assert!(
            info.skipped_rows[0]
                .message()
                .zh()
                .contains("第5行是合计行")
        );
        let h = &info.sheets[0];
        assert_eq!(h.unknown, [(5, "帮扶人".to_string())]);
        assert!(h.missing.is_empty());
        assert_eq!(
            rows[1].get(Field::RELATION),
            Some(&CellValue::Text("妻子".into()))
        );
    }

    #[test]
    fn a_two_row_header_names_columns_from_the_upper_row() {
        let (info, rows) = read_csv(
            "序号,户信息,,家庭成员信息,,\n\
             ,户编号,乡镇,姓名,证件号码,与户主关系\n\
             1,H1,高岭镇,韦一,451228197001020011,户主\n\
             序号,户信息,,家庭成员信息,,\n\
             2,H2,高岭镇,黄三,451228196505060013,户主\n",
        );
        let h = &info.sheets[0];
        assert_eq!(h.row, 2);
        assert_eq!(h.names[0], "序号");
        assert_eq!(h.fields[0], Some(Field::IGNORED));
        assert!(h.unknown.is_empty(), "{:?}", h.unknown);
        assert_eq!(rows.len(), 2);
        assert_eq!(kinds(&info), [(4, SkipKind::Header)]);
    }

    #[test]
    fn a_missing_required_column_is_named_once() {
        let (info, rows) = read_csv("户编号,姓名,证件号码,称谓\nH1,韦一,451228197001020011,户主\n");
        assert_eq!(info.sheets[0].missing, [Field::RELATION]);
        assert_eq!(info.sheets[0].unknown, [(4, "称谓".to_string())]);
        assert!(!rows[0].has_column(Field::RELATION));
        assert_eq!(column_letter(4), "D");
        assert_eq!(column_letter(28), "AB");
    }

    #[test]
    fn people_and_places_that_look_like_keywords_are_data() {
        // A village called 合心村 in the first column, a name beginning with 注.
        let (info, rows) = read_csv(
            "村,户编号,姓名,证件号码,与户主关系\n\
             合心村,H1,注光明,451228197001020011,户主\n\
             说和村,H2,韦一,451228196505060013,户主\n",
        );
        assert!(info.skipped_rows.is_empty(), "{:?}", info.skipped_rows);
        assert_eq!(rows.len(), 2);
    }
}
