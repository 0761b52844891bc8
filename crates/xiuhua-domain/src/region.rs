//! Administrative regions and their codes: 省 (2 digits) → 市 (4) → 县 (6, GB/T 2260) →
//! 乡镇 (9) → 行政村 (12, NBS 统计用区划代码) → 村民小组/自然屯 (15, system-assigned).

use std::fmt;

/// The level of a region in the hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionLevel {
    /// 省级
    Province = 1,
    /// 地级 (市/州/盟)
    City = 2,
    /// 县级
    County = 3,
    /// 乡级 (乡/镇/街道)
    Township = 4,
    /// 村级 (行政村/社区)
    Village = 5,
    /// 村民小组/自然屯
    Group = 6,
}

impl RegionLevel {
    /// All levels from the top.
    pub const ALL: [RegionLevel; 6] = [
        RegionLevel::Province,
        RegionLevel::City,
        RegionLevel::County,
        RegionLevel::Township,
        RegionLevel::Village,
        RegionLevel::Group,
    ];

    /// Number of digits of a code at this level.
    pub fn code_len(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::City => 4,
            RegionLevel::County => 6,
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
            RegionLevel::Group => 15,
        }
    }

    /// The level whose codes have `len` digits.
    pub fn from_code_len(len: usize) -> Option<RegionLevel> {
        RegionLevel::ALL.into_iter().find(|l| l.code_len() == len)
    }

    /// Numeric form stored in the database (1–6).
    pub fn as_i16(self) -> i16 {
        self as i16
    }

    /// Parses the numeric form.
    pub fn from_i16(v: i16) -> Option<RegionLevel> {
        RegionLevel::ALL.into_iter().find(|l| l.as_i16() == v)
    }

    /// The level below, if any.
    pub fn child(self) -> Option<RegionLevel> {
        RegionLevel::from_i16(self.as_i16() + 1)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            RegionLevel::Province => "省",
            RegionLevel::City => "市",
            RegionLevel::County => "县",
            RegionLevel::Township => "乡镇",
            RegionLevel::Village => "行政村",
            RegionLevel::Group => "村民小组",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
            RegionLevel::Township => "township",
            RegionLevel::Village => "village",
            RegionLevel::Group => "group",
        }
    }
}

/// A validated region code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// Why a string is not a region code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("region code {code:?} must be 2, 4, 6, 9, 12 or 15 digits")]
pub struct RegionCodeError {
    /// The rejected input.
    pub code: String,
}

impl RegionCode {
    /// Parses a code of any level. NBS publishes 12-digit codes for every level with trailing
    /// zeros (e.g. `451228000000` for the county); those are shortened to their level.
    pub fn parse(input: &str) -> Result<RegionCode, RegionCodeError> {
        let s = input.trim();
        let err = || RegionCodeError {
            code: s.to_string(),
        };
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let s = if s.len() == 12 { trim_nbs_zeros(s) } else { s };
        RegionLevel::from_code_len(s.len()).ok_or_else(err)?;
        Ok(RegionCode(s.to_string()))
    }

    /// The level.
    pub fn level(&self) -> RegionLevel {
        // The constructor guarantees a valid length.
        RegionLevel::from_code_len(self.0.len()).unwrap_or(RegionLevel::Group)
    }

    /// The parent region's code, if any.
    pub fn parent(&self) -> Option<RegionCode> {
        let lvl = self.level();
        let parent = RegionLevel::from_i16(lvl.as_i16() - 1)?;
        Some(RegionCode(self.0[..parent.code_len()].to_string()))
    }

    /// The code at a higher (or equal) level, e.g. the county of a village.
    pub fn ancestor(&self, level: RegionLevel) -> Option<RegionCode> {
        (level <= self.level()).then(|| RegionCode(self.0[..level.code_len()].to_string()))
    }

    /// Whether `other` is this region or lies inside it.
    pub fn contains(&self, other: &str) -> bool {
        other.starts_with(&self.0)
    }

    /// The code as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `451228101200` stays 12 digits; `451228101000` → `451228101`; `451228000000` → `451228`.
fn trim_nbs_zeros(s: &str) -> &str {
    if &s[9..] != "000" {
        s
    } else if &s[6..] != "000000" {
        &s[..9]
    } else if &s[4..] != "00000000" {
        &s[..6]
    } else if &s[2..] != "0000000000" {
        &s[..4]
    } else {
        &s[..2]
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_parents() {
        let v = RegionCode::parse("451228101201").unwrap();
        assert_eq!(v.level(), RegionLevel::Village);
        assert_eq!(v.parent().unwrap().as_str(), "451228101");
        assert_eq!(v.ancestor(RegionLevel::County).unwrap().as_str(), "451228");
        assert!(RegionCode::parse("451228").unwrap().contains(v.as_str()));
        assert!(RegionCode::parse("45").unwrap().parent().is_none());
    }

    #[test]
    fn nbs_twelve_digit_forms_are_shortened() {
        assert_eq!(
            RegionCode::parse("451228000000").unwrap().as_str(),
            "451228"
        );
        assert_eq!(
            RegionCode::parse("451228101000").unwrap().as_str(),
            "451228101"
        );
        assert_eq!(RegionCode::parse("450000000000").unwrap().as_str(), "45");
    }

    #[test]
    fn bad_codes_are_refused() {
        for s in ["45122", "45x228", "", "4512281012011"] {
            assert!(RegionCode::parse(s).is_err(), "{s}");
        }
    }
}
