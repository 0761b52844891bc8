//! Numbers as people read them, with the precision of the field's unit: areas (亩, ㎡) to at
//! most two decimals without trailing zeros (`8.4`, not `8.399999999999999`; `167`, not
//! `167.0`), money (stored in 分) in 元 with two decimals, whole numbers and years as integers.
//! One function for every place a field value is shown ([`format_number`]). Stored times
//! (RFC 3339, UTC) are shown in China's time ([`china_time`], [`china_minute`]).

use crate::fields::FieldType;
use crate::household::Fen;

/// Decimal places shown for a decimal field (areas in 亩 or ㎡ are measured to 0.01).
pub const DECIMAL_PLACES: usize = 2;

/// Money in 元 with two decimals (`123456` 分 → `1234.56`).
pub fn format_fen(f: Fen) -> String {
    let sign = if f.0 < 0 { "-" } else { "" };
    let a = f.0.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// A decimal rounded to [`DECIMAL_PLACES`], trailing zeros (and a trailing point) dropped.
pub fn format_decimal(x: f64) -> String {
    let s = format!("{x:.DECIMAL_PLACES$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// A number of a field of type `ty` as shown: money is `x` in 分 (a stored amount), decimals
/// are rounded to their unit's precision, whole numbers and years have no decimals. `None` for
/// a type that is not a number.
pub fn format_number(ty: FieldType, x: f64) -> Option<String> {
    Some(match ty {
        FieldType::Money => format_fen(Fen(x.round() as i64)),
        FieldType::Decimal => format_decimal(x),
        FieldType::Int | FieldType::Year => format!("{}", x.round() as i64),
        _ => return None,
    })
}

/// A JSON value of a field as shown if it is a number (see [`format_number`]); a number of a
/// field of no numeric type is shown as a decimal.
pub fn format_json_number(ty: Option<FieldType>, v: &serde_json::Value) -> Option<String> {
    let x = v.as_f64()?;
    match ty.and_then(|t| format_number(t, x)) {
        Some(s) => Some(s),
        None => Some(format_decimal(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_have_the_precision_of_their_unit() {
        assert_eq!(
            format_number(FieldType::Decimal, 8.399999999999999).unwrap(),
            "8.4"
        );
        assert_eq!(format_number(FieldType::Decimal, 167.0).unwrap(), "167");
        assert_eq!(format_number(FieldType::Decimal, 0.126).unwrap(), "0.13");
        assert_eq!(format_number(FieldType::Decimal, 12.5).unwrap(), "12.5");
        assert_eq!(format_number(FieldType::Decimal, -0.001).unwrap(), "0");
        assert_eq!(format_number(FieldType::Decimal, 0.0).unwrap(), "0");
    }

    #[test]
    fn money_is_shown_in_yuan_with_two_decimals() {
        assert_eq!(format_fen(Fen(123456)), "1234.56");
        assert_eq!(format_fen(Fen(500)), "5.00");
        assert_eq!(format_fen(Fen(7)), "0.07");
        assert_eq!(format_fen(Fen(-150)), "-1.50");
        assert_eq!(
            format_number(FieldType::Money, 2_000_000.0).unwrap(),
            "20000.00"
        );
    }

    #[test]
    fn whole_numbers_and_years_have_no_decimals() {
        assert_eq!(format_number(FieldType::Year, 2019.0).unwrap(), "2019");
        assert_eq!(format_number(FieldType::Int, 6.0).unwrap(), "6");
        assert_eq!(format_number(FieldType::Text, 6.0), None);
        let v = serde_json::json!(167.0);
        assert_eq!(format_json_number(None, &v).unwrap(), "167");
        assert_eq!(
            format_json_number(Some(FieldType::Text), &serde_json::json!("x")),
            None
        );
    }
}

/// China's time zone (Asia/Shanghai): UTC+8 all year, no daylight saving.
pub const CHINA: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(tz) => tz,
    None => panic!("UTC+8 is a valid offset"),
};

fn in_china(stored: &str, pattern: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(stored) {
        Ok(t) => t.with_timezone(&CHINA).format(pattern).to_string(),
        Err(_) => stored.to_string(),
    }
}

/// A stored timestamp (RFC 3339, UTC) in China's time to the second, as logs and exports show
/// it: `2026-12-03T07:05:09.123Z` → `2026-12-03 15:05:09`. Text that is not a timestamp is
/// returned as it is.
pub fn china_time(stored: &str) -> String {
    in_china(stored, "%Y-%m-%d %H:%M:%S")
}

/// The same to the minute, as pages show it: `2026-12-03T07:05:09.123Z` → `2026-12-03 15:05`.
pub fn china_minute(stored: &str) -> String {
    in_china(stored, "%Y-%m-%d %H:%M")
}

#[cfg(test)]
mod china_time_tests {
    use super::{china_minute, china_time};

    #[test]
    fn utc_timestamps_are_shown_in_china_time() {
        assert_eq!(china_minute("2026-12-03T07:05:09.123Z"), "2026-12-03 15:05");
        assert_eq!(
            china_time("2026-12-03T07:05:09.123Z"),
            "2026-12-03 15:05:09"
        );
        assert_eq!(china_minute("2026-12-03T20:30:00Z"), "2026-12-04 04:30");
        assert_eq!(
            china_minute("2026-12-03T20:30:00+08:00"),
            "2026-12-03 20:30"
        );
        assert_eq!(china_minute("—"), "—");
        assert_eq!(china_time("not a time"), "not a time");
    }
}
