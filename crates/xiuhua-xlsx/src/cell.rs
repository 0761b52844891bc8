//! One spreadsheet cell as read, and the clean-up that messy ledgers need: full-width digits
//! and letters, stray spaces, identity numbers stored as numbers, Excel date serials, text dates.

use chrono::NaiveDate;

/// A cell value after reading, before interpretation.
#[derive(Clone, Debug, PartialEq)]
pub enum CellValue {
    /// Nothing in the cell.
    Empty,
    /// Text (already cleaned: trimmed, full-width ASCII mapped to half-width).
    Text(String),
    /// A number (Excel stores every number as a double).
    Number(f64),
    /// A date (from a date-formatted cell).
    Date(NaiveDate),
    /// A boolean.
    Bool(bool),
}

impl CellValue {
    /// Whether the cell is empty (or only white space).
    pub fn is_empty(&self) -> bool {
        match self {
            CellValue::Empty => true,
            CellValue::Text(t) => t.is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as a person would read it (numbers without a trailing `.0`).
    pub fn display(&self) -> String {
        match self {
            CellValue::Empty => String::new(),
            CellValue::Text(t) => t.clone(),
            CellValue::Number(n) => number_text(*n),
            CellValue::Date(d) => d.to_string(),
            CellValue::Bool(b) => (if *b { "是" } else { "否" }).to_string(),
        }
    }
}

/// Formats a number the way it was probably typed: integers without decimals.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Trims, maps full-width ASCII (Ａ-Ｚ, ０-９, punctuation) and the ideographic space to
/// half-width, and collapses runs of white space inside the text to one space.
pub fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = match c {
            '\u{3000}' | '\u{00a0}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{200b}' | '\u{feff}' => continue,
            other => other,
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// Converts an Excel date serial (days since 1899-12-30, 1900 system) to a date.
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_signed(chrono::Duration::days(serial.trunc() as i64))
}

/// Why a cell is not a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateProblem {
    /// Not written as a date at all.
    NotADate,
    /// Written as a date that does not exist (2020-02-30, 20201341).
    Impossible,
}

/// Parses the date forms found in ledgers: `2019-03-05`, `2019/3/5`, `2019.3.5`, `20190305`,
/// `2019年3月5日`, an Excel serial, or a year-month `2019-03` / `2019年3月` (first day).
pub fn parse_date(v: &CellValue) -> Option<NaiveDate> {
    parse_date_checked(v).ok()
}

/// [`parse_date`], saying whether a cell that is not a date is written as one that does not
/// exist.
pub fn parse_date_checked(v: &CellValue) -> Result<NaiveDate, DateProblem> {
    match v {
        CellValue::Date(d) => Ok(*d),
        CellValue::Number(n) if (19000000.0..=21999999.0).contains(n) && n.fract() == 0.0 => {
            parse_date_text(&number_text(*n))
        }
        CellValue::Number(n) => excel_serial_date(*n).ok_or(DateProblem::NotADate),
        CellValue::Text(t) => parse_date_text(t),
        _ => Err(DateProblem::NotADate),
    }
}

fn ymd(y: u32, m: u32, d: u32) -> Result<NaiveDate, DateProblem> {
    if !(1800..2200).contains(&y) {
        return Err(DateProblem::NotADate);
    }
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(DateProblem::Impossible)
}

fn parse_date_text(t: &str) -> Result<NaiveDate, DateProblem> {
    let t = t.trim().trim_end_matches('日').trim_end_matches('号');
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let n = |r: std::ops::Range<usize>| t[r].parse::<u32>().unwrap_or(0);
        return ymd(n(0..4), n(4..6), n(6..8));
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月'])
        .filter(|p| !p.is_empty())
        .collect();
    let nums: Vec<u32> = parts
        .iter()
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()
        .ok_or(DateProblem::NotADate)?;
    match nums.as_slice() {
        [y, m, d] => ymd(*y, *m, *d),
        [y, m] => ymd(*y, *m, 1),
        _ => Err(DateProblem::NotADate),
    }
}

/// Parses a year (`2019`, `2019年`, `2019.0`, or the year of a date).
pub fn parse_year(v: &CellValue) -> Option<i32> {
    match v {
        CellValue::Number(n) if (1900.0..2200.0).contains(n) && n.fract() == 0.0 => Some(*n as i32),
        CellValue::Text(t) => {
            let y = t.trim().trim_end_matches('年').trim_end_matches("年度");
            y.parse()
                .ok()
                .filter(|y| (1900..2200).contains(y))
                .or_else(|| parse_date(v).map(|d| chrono::Datelike::year(&d)))
        }
        other => parse_date(other).map(|d| chrono::Datelike::year(&d)),
    }
}

/// Parses 是/否 and its variants.
pub fn parse_bool(v: &CellValue) -> Option<bool> {
    match v {
        CellValue::Bool(b) => Some(*b),
        CellValue::Number(n) if *n == 1.0 => Some(true),
        CellValue::Number(n) if *n == 0.0 => Some(false),
        CellValue::Text(t) => match t.as_str() {
            "是" | "有" | "Y" | "y" | "1" | "true" | "TRUE" | "√" => Some(true),
            "否" | "无" | "N" | "n" | "0" | "false" | "FALSE" | "×" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Why an identity-number cell cannot be trusted before it is even parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdCellProblem {
    /// Excel stored the number as a double: only 15 significant digits survive, so the last
    /// digits of an 18-digit number are lost. We flag it rather than guess.
    PrecisionLost(String),
}

/// The identity-number text of a cell, or why it cannot be trusted.
pub fn id_number_text(v: &CellValue) -> Result<String, IdCellProblem> {
    match v {
        CellValue::Number(n) => {
            let t = number_text(*n);
            if t.len() > 15 || n.abs() >= 1e15 {
                Err(IdCellProblem::PrecisionLost(format!("{n:e}")))
            } else {
                Ok(t)
            }
        }
        CellValue::Text(t) if is_scientific(t) => Err(IdCellProblem::PrecisionLost(t.clone())),
        other => Ok(other.display().replace(' ', "")),
    }
}

/// Whether a text is a number in scientific notation (`4.51228E+17`): what a CSV saved by
/// Excel holds for a long number shown in a narrow column, its digits lost.
fn is_scientific(t: &str) -> bool {
    let t = t.trim();
    let Some((mantissa, exp)) = t.split_once(['E', 'e']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(mantissa),
    };
    mantissa_ok && digits(exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn full_width_and_spaces_are_cleaned() {
        assert_eq!(clean_text("　４５１２２８１９７０ＡＢ　 "), "4512281970AB");
        assert_eq!(clean_text(" 韦  桂英 "), "韦 桂英");
        assert_eq!(clean_text("\u{feff}户编号"), "户编号");
    }

    #[test]
    fn dates_in_every_ledger_form() {
        for t in [
            "2019-03-05",
            "2019/3/5",
            "2019.3.5",
            "20190305",
            "2019年3月5日",
        ] {
            assert_eq!(
                parse_date(&CellValue::Text(t.into())),
                Some(d(2019, 3, 5)),
                "{t}"
            );
        }
        assert_eq!(
            parse_date(&CellValue::Number(43529.0)),
            Some(d(2019, 3, 5)),
            "Excel serial"
        );
        assert_eq!(
            parse_date(&CellValue::Number(20190305.0)),
            Some(d(2019, 3, 5))
        );
        assert_eq!(
            parse_date(&CellValue::Text("2019年3月".into())),
            Some(d(2019, 3, 1))
        );
        assert_eq!(parse_date(&CellValue::Text("三月".into())), None);
        for t in [
            "2020-02-30",
            "20201341",
            "2020/13/01",
            "2019年2月29日",
            "2020.04.31",
        ] {
            assert_eq!(
                parse_date_checked(&CellValue::Text(t.into())),
                Err(DateProblem::Impossible),
                "{t}"
            );
        }
        assert_eq!(
            parse_date_checked(&CellValue::Number(20201341.0)),
            Err(DateProblem::Impossible)
        );
        assert_eq!(
            parse_date_checked(&CellValue::Text("不详".into())),
            Err(DateProblem::NotADate)
        );
        assert_eq!(
            parse_date(&CellValue::Text("2020年12月31日".into())),
            Some(d(2020, 12, 31))
        );
        assert_eq!(parse_year(&CellValue::Text("2018年".into())), Some(2018));
        assert_eq!(parse_year(&CellValue::Number(2018.0)), Some(2018));
    }

    #[test]
    fn ids_stored_as_numbers_are_flagged_not_guessed() {
        assert!(matches!(
            id_number_text(&CellValue::Number(451228197001020011.0)),
            Err(IdCellProblem::PrecisionLost(_))
        ));
        assert_eq!(
            id_number_text(&CellValue::Text("45122819700102001x".into())).unwrap(),
            "45122819700102001x"
        );
        for t in ["4.51228E+17", "4.51228E17", "4.51228197001e+17"] {
            assert!(
                matches!(
                    id_number_text(&CellValue::Text(t.into())),
                    Err(IdCellProblem::PrecisionLost(_))
                ),
                "{t}"
            );
        }
        assert_eq!(
            id_number_text(&CellValue::Number(110105491231002.0)).unwrap(),
            "110105491231002",
            "15 digits survive"
        );
    }
}
