//! 公民身份号码 (citizen identity numbers, GB 11643-1999): parsing, check digit, derived birth
//! date and sex, and the upgrade of legacy 15-digit numbers to 18 digits.
//!
//! Input is forgiving in the ways ledgers are messy (surrounding spaces, full-width digits, a
//! lower-case `x`), and strict about everything else: a number either parses into an
//! [`IdNumber`] whose check digit, date and shape are right, or it is refused with a reason.

use crate::message::{Message, msg};
use std::fmt;

use chrono::{Datelike, NaiveDate};

/// Weights W_i = 2^(18-i) mod 11 for the first 17 digits (GB 11643-1999, ISO 7064 MOD 11-2).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum modulo 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Sex as encoded in the 顺序码: odd is male, even is female.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    /// 男
    Male,
    /// 女
    Female,
}

impl Sex {
    /// National code: "1" male, "2" female (GB/T 2261.1).
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "1",
            Sex::Female => "2",
        }
    }

    /// Parses the national code or the Chinese word.
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim() {
            "1" | "男" | "M" | "m" | "male" => Some(Sex::Male),
            "2" | "女" | "F" | "f" | "female" => Some(Sex::Female),
            _ => None,
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// Why a string is not a valid identity number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// The number has neither 15 nor 18 characters after clean-up.
    #[error("identity number must have 18 (or legacy 15) characters, found {0}")]
    Length(usize),
    /// A character other than a digit (or a final X) was found.
    #[error("identity number contains an invalid character at position {0}")]
    Character(usize),
    /// The 8-digit birth date is not a real calendar date.
    #[error("identity number contains an impossible birth date {0}")]
    BirthDate(String),
    /// The address code is not a plausible 6-digit county code.
    #[error("identity number has an invalid address code {0}")]
    AddressCode(String),
    /// The check digit does not match the first 17 digits.
    #[error("identity number check digit is {found} but should be {expected}")]
    CheckDigit {
        /// The check character in the input.
        found: char,
        /// The check character computed from the first 17 digits.
        expected: char,
    },
}

impl IdNumberError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Length(_) => "id_number_length",
            IdNumberError::Character(_) => "id_number_character",
            IdNumberError::BirthDate(_) => "id_number_birth_date",
            IdNumberError::AddressCode(_) => "id_number_address_code",
            IdNumberError::CheckDigit { .. } => "id_number_check_digit",
        }
    }

    /// The reason as a message (its key is [`IdNumberError::code`]).
    pub fn message(&self) -> Message {
        let m = msg(self.code());
        match self {
            IdNumberError::Length(n) => m.arg("length", n),
            IdNumberError::Character(p) => m.arg("position", p),
            IdNumberError::BirthDate(d) => m.arg("date", d),
            IdNumberError::AddressCode(c) => m.arg("code", c),
            IdNumberError::CheckDigit { found, expected } => {
                m.arg("found", found).arg("expected", expected)
            }
        }
    }

    /// The reason in Chinese, for people reading the UI or an error workbook.
    pub fn message_zh(&self) -> String {
        self.message().zh()
    }
}

/// A validated 18-character identity number (upper-case X).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses and normalises an identity number.
    ///
    /// Accepts surrounding white space, full-width digits and `Ｘ/x`, and 15-digit legacy numbers
    /// (converted to 18 digits). Refuses anything whose check digit, date or shape is wrong.
    pub fn parse(input: &str) -> Result<IdNumber, IdNumberError> {
        let cleaned = normalise_chars(input);
        match cleaned.len() {
            18 => {
                check_shape(&cleaned, true)?;
                let expected = check_char(&cleaned.as_bytes()[..17]);
                let found = cleaned.as_bytes()[17];
                if found != expected {
                    return Err(IdNumberError::CheckDigit {
                        found: char::from(found),
                        expected: char::from(expected),
                    });
                }
                let id = IdNumber(cleaned);
                id.validate_date_and_address()?;
                Ok(id)
            }
            15 => {
                check_shape(&cleaned, false)?;
                Self::upgrade15(&cleaned)
            }
            n => Err(IdNumberError::Length(n)),
        }
    }

    /// Converts a legacy 15-digit number (YYMMDD, no check digit) by inserting "19" before the
    /// year and computing the check digit.
    fn upgrade15(s: &str) -> Result<IdNumber, IdNumberError> {
        let mut body = String::with_capacity(18);
        body.push_str(&s[..6]);
        body.push_str("19");
        body.push_str(&s[6..]);
        let c = check_char(body.as_bytes());
        body.push(char::from(c));
        let id = IdNumber(body);
        id.validate_date_and_address()?;
        Ok(id)
    }

    /// Builds a valid number from its parts, computing the check digit. Used by the demo
    /// generator; `sequence` is 0..=999 and its parity decides the sex.
    pub fn compose(
        address_code: &str,
        birth: NaiveDate,
        sequence: u16,
    ) -> Result<IdNumber, IdNumberError> {
        let body = format!(
            "{address_code}{}{:03}",
            birth.format("%Y%m%d"),
            sequence % 1000
        );
        if body.len() != 17 {
            return Err(IdNumberError::Length(body.len() + 1));
        }
        check_shape(&body, false)?;
        let mut s = body;
        let c = check_char(s.as_bytes());
        s.push(char::from(c));
        let id = IdNumber(s);
        id.validate_date_and_address()?;
        Ok(id)
    }

    fn validate_date_and_address(&self) -> Result<(), IdNumberError> {
        let addr = &self.0[..6];
        // Province codes run from 11 (北京) to 82 (澳门). The rest is checked only structurally:
        // numbers keep the code of a county that may since have been renamed or abolished.
        let prov: u32 = addr[..2].parse().unwrap_or(0);
        if !(11..=82).contains(&prov) {
            return Err(IdNumberError::AddressCode(addr.to_string()));
        }
        if self.birth_date().is_none() {
            return Err(IdNumberError::BirthDate(self.0[6..14].to_string()));
        }
        Ok(())
    }

    /// The normalised 18-character string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 出生日期码 as a date.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        let y: i32 = self.0[6..10].parse().ok()?;
        let m: u32 = self.0[10..12].parse().ok()?;
        let d: u32 = self.0[12..14].parse().ok()?;
        if y < 1850 {
            return None;
        }
        NaiveDate::from_ymd_opt(y, m, d)
    }

    /// Sex from the parity of the 17th digit.
    pub fn sex(&self) -> Sex {
        let d = self.0.as_bytes()[16] - b'0';
        if d % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// 地址码: the 6-digit county code at the time of issue.
    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: NaiveDate) -> Option<i32> {
        let b = self.birth_date()?;
        let mut age = on.year() - b.year();
        if (on.month(), on.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        Some(age)
    }

    /// A masked form for public display ([`crate::household::mask_id_number`]: the first 6
    /// and last 2 characters kept, e.g. `110105**********2X`).
    pub fn masked(&self) -> String {
        crate::household::mask_id_number(&self.0)
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trims, maps full-width digits and letters to ASCII, and upper-cases x.
fn normalise_chars(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}' && *c != '\'')
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            'ｘ' | 'Ｘ' | 'x' => 'X',
            other => other,
        })
        .collect()
}

fn check_shape(s: &str, has_check: bool) -> Result<(), IdNumberError> {
    let bytes = s.as_bytes();
    let digits = if has_check {
        bytes.len() - 1
    } else {
        bytes.len()
    };
    if let Some(pos) = bytes[..digits].iter().position(|b| !b.is_ascii_digit()) {
        return Err(IdNumberError::Character(char_pos(s, pos)));
    }
    if has_check {
        let last = bytes[digits];
        if !(last.is_ascii_digit() || last == b'X') {
            return Err(IdNumberError::Character(char_pos(s, digits)));
        }
    }
    Ok(())
}

/// 1-based character position of a byte offset.
fn char_pos(s: &str, byte: usize) -> usize {
    s.char_indices().take_while(|(i, _)| *i <= byte).count()
}

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_are_valid() {
        for s in [
            "11010519491231002X",
            "440524188001010014",
            "34052419800101001X",
        ] {
            let id = IdNumber::parse(s).unwrap();
            assert_eq!(id.as_str(), s);
        }
    }

    #[test]
    fn lower_case_and_full_width_are_normalised() {
        assert_eq!(
            IdNumber::parse(" 11010519491231002x ").unwrap().as_str(),
            "11010519491231002X"
        );
        assert_eq!(
            IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ")
                .unwrap()
                .as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn wrong_check_digit_is_refused_with_the_expected_digit() {
        let e = IdNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(
            e,
            IdNumberError::CheckDigit {
                found: '1',
                expected: 'X'
            }
        );
        assert!(e.message_zh().contains("应为X"));
    }

    #[test]
    fn impossible_dates_and_bad_characters_are_refused() {
        // 1949-02-30 does not exist; build the check digit so only the date is wrong.
        let mut body = "11010519490230002".to_string();
        body.push(char::from(check_char(body.as_bytes())));
        assert!(matches!(
            IdNumber::parse(&body),
            Err(IdNumberError::BirthDate(_))
        ));
        assert!(matches!(
            IdNumber::parse("1101051949123100AX"),
            Err(IdNumberError::Character(17))
        ));
        assert_eq!(IdNumber::parse("12345"), Err(IdNumberError::Length(5)));
    }

    #[test]
    fn fifteen_digits_are_upgraded() {
        // 15-digit form of 11010519491231002X is 110105491231002.
        let id = IdNumber::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn birth_date_sex_and_age_are_derived() {
        let id = IdNumber::parse("440524188001010014").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1880, 1, 1));
        assert_eq!(id.sex(), Sex::Male);
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(
            id.age_on(NaiveDate::from_ymd_opt(2020, 12, 30).unwrap()),
            Some(70)
        );
        assert_eq!(
            id.age_on(NaiveDate::from_ymd_opt(2020, 12, 31).unwrap()),
            Some(71)
        );
        assert_eq!(id.masked(), "110105**********2X");
    }

    #[test]
    fn compose_round_trips_through_parse() {
        let birth = NaiveDate::from_ymd_opt(1987, 6, 5).unwrap();
        for seq in [0u16, 1, 2, 555, 999] {
            let id = IdNumber::compose("451228", birth, seq).unwrap();
            assert_eq!(IdNumber::parse(id.as_str()).unwrap(), id);
            assert_eq!(id.birth_date(), Some(birth));
            assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
        }
    }
}
