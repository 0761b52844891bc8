//! Run-time values, three-valued outcomes and how values are shown in explanations.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use xiuhua_domain::CodeCatalog;

use crate::schema::MemberFacts;

/// A value during evaluation. `Unknown` stands for missing data and for anything CEL would
/// call an error (division by zero, overflow, an index out of range): it never passes.
#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    /// Missing or not computable.
    Unknown,
    /// bool
    Bool(bool),
    /// int
    Int(i64),
    /// double
    Double(f64),
    /// string (borrowed from the registry data or the rule set where possible)
    Str(Cow<'a, str>),
    /// a list built during evaluation
    List(Vec<Val<'a>>),
    /// a list of strings borrowed from the registry (e.g. 健康状况)
    StrSlice(&'a [String]),
    /// the household's members
    Members(&'a [MemberFacts<'a>]),
    /// one member
    Member(&'a MemberFacts<'a>),
}

impl<'a> Val<'a> {
    /// A cheap copy that borrows strings from `self`.
    pub fn share<'b>(&'b self) -> Val<'b>
    where
        'a: 'b,
    {
        match self {
            Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
            Val::Unknown => Val::Unknown,
            Val::Bool(b) => Val::Bool(*b),
            Val::Int(i) => Val::Int(*i),
            Val::Double(d) => Val::Double(*d),
            Val::List(l) => Val::List(l.iter().map(Val::share).collect()),
            Val::StrSlice(s) => Val::StrSlice(s),
            Val::Members(m) => Val::Members(m),
            Val::Member(m) => Val::Member(m),
        }
    }

    /// An owned copy, independent of the data it was read from.
    pub fn to_static(&self) -> Val<'static> {
        match self {
            Val::Str(s) => Val::Str(Cow::Owned(s.to_string())),
            Val::Unknown => Val::Unknown,
            Val::Bool(b) => Val::Bool(*b),
            Val::Int(i) => Val::Int(*i),
            Val::Double(d) => Val::Double(*d),
            Val::List(l) => Val::List(l.iter().map(Val::to_static).collect()),
            Val::StrSlice(s) => {
                Val::List(s.iter().map(|x| Val::Str(Cow::Owned(x.clone()))).collect())
            }
            // Members are never stored or shown as values.
            Val::Members(_) | Val::Member(_) => Val::Unknown,
        }
    }

    /// The number, if numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// Whether this is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Val::Unknown)
    }

    /// A JSON form for storage and the API.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Val::Unknown | Val::Members(_) | Val::Member(_) => serde_json::Value::Null,
            Val::Bool(b) => (*b).into(),
            Val::Int(i) => (*i).into(),
            Val::Double(d) => serde_json::Number::from_f64(*d)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Val::Str(s) => s.as_ref().into(),
            Val::List(l) => l.iter().map(Val::to_json).collect(),
            Val::StrSlice(s) => s.iter().map(|x| x.as_str()).collect(),
        }
    }

    /// A value from JSON (facts supplied by a caller); `null` is unknown.
    pub fn from_json(v: &serde_json::Value) -> Val<'static> {
        match v {
            serde_json::Value::Bool(b) => Val::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => n.as_f64().map(Val::Double).unwrap_or(Val::Unknown),
            },
            serde_json::Value::String(s) => Val::Str(Cow::Owned(s.clone())),
            serde_json::Value::Array(a) => Val::List(a.iter().map(Val::from_json).collect()),
            _ => Val::Unknown,
        }
    }
}

/// The result of a yes/no item or of a whole rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The expression is true (a standard is met, a veto or trigger applies, a check passes).
    Pass,
    /// The expression is false.
    Fail,
    /// Data missing or not computable.
    Unknown,
}

impl Outcome {
    /// From a three-valued bool.
    pub fn of(v: &Val<'_>) -> Outcome {
        match v {
            Val::Bool(true) => Outcome::Pass,
            Val::Bool(false) => Outcome::Fail,
            _ => Outcome::Unknown,
        }
    }

    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "pass" => Some(Outcome::Pass),
            "fail" => Some(Outcome::Fail),
            "unknown" => Some(Outcome::Unknown),
            _ => None,
        }
    }

    /// Three-valued AND.
    pub fn and(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Fail, _) | (_, Outcome::Fail) => Outcome::Fail,
            (Outcome::Unknown, _) | (_, Outcome::Unknown) => Outcome::Unknown,
            _ => Outcome::Pass,
        }
    }

    /// Three-valued OR.
    pub fn or(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Pass, _) | (_, Outcome::Pass) => Outcome::Pass,
            (Outcome::Unknown, _) | (_, Outcome::Unknown) => Outcome::Unknown,
            _ => Outcome::Fail,
        }
    }

    /// Three-valued NOT.
    pub fn negate(self) -> Outcome {
        match self {
            Outcome::Pass => Outcome::Fail,
            Outcome::Fail => Outcome::Pass,
            Outcome::Unknown => Outcome::Unknown,
        }
    }
}

/// Formats an integer with thousands separators: 12,345.
pub fn thousands(i: i64) -> String {
    let digits = i.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if i < 0 {
        out.push('-');
    }
    for (n, ch) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Shows a value the way a Chinese reader expects it: 3,120 / 3,120.5 / 是 / 否 / labels of codes
/// (`code_list` names the list; `@status`, `@monitoring` and `@sex` are built in) / 未知.
pub fn show(v: &Val<'_>, code_list: Option<&str>, codes: Option<&CodeCatalog>) -> String {
    match v {
        Val::Unknown => "未知".into(),
        Val::Bool(true) => "是".into(),
        Val::Bool(false) => "否".into(),
        Val::Int(i) => thousands(*i),
        Val::Double(d) => {
            if !d.is_finite() {
                "未知".into()
            } else if d.fract() == 0.0 && d.abs() < 9.0e15 {
                thousands(*d as i64)
            } else {
                let r = (d * 100.0).round() / 100.0;
                let whole = thousands(r.trunc() as i64);
                let frac = format!("{:.2}", r.fract().abs());
                let frac = frac.trim_start_matches('0').trim_end_matches('0');
                let sign = if r < 0.0 && r.trunc() == 0.0 { "-" } else { "" };
                format!("{sign}{whole}{frac}")
            }
        }
        Val::Str(s) => label(s, code_list, codes),
        Val::List(l) => {
            if l.is_empty() {
                "无".into()
            } else {
                l.iter()
                    .map(|x| show(x, code_list, codes))
                    .collect::<Vec<_>>()
                    .join("、")
            }
        }
        Val::StrSlice(l) => {
            if l.is_empty() {
                "无".into()
            } else {
                l.iter()
                    .map(|x| label(x, code_list, codes))
                    .collect::<Vec<_>>()
                    .join("、")
            }
        }
        Val::Members(m) => format!("{} 人", m.len()),
        Val::Member(_) => "成员".into(),
    }
}

fn label(code: &str, list: Option<&str>, codes: Option<&CodeCatalog>) -> String {
    use xiuhua_domain::{MonitoringStatus, RegistryStatus};
    match list {
        Some("@status") => RegistryStatus::parse(code)
            .map(|s| s.label_zh().to_string())
            .unwrap_or_else(|| code.to_string()),
        Some("@monitoring") => MonitoringStatus::parse(code)
            .map(|s| s.label_zh().to_string())
            .unwrap_or_else(|| code.to_string()),
        Some("@sex") => match code {
            "1" => "男".into(),
            "2" => "女".into(),
            _ => code.to_string(),
        },
        Some(list) => match codes.and_then(|c| c.get(list, code)) {
            Some(item) => item.label_zh.clone(),
            None => code.to_string(),
        },
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_chinese_forms() {
        assert_eq!(thousands(3120), "3,120");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(show(&Val::Double(3747.0), None, None), "3,747");
        assert_eq!(show(&Val::Double(3120.456), None, None), "3,120.46");
        assert_eq!(show(&Val::Double(0.5), None, None), "0.5");
        assert_eq!(show(&Val::Unknown, None, None), "未知");
        assert_eq!(show(&Val::Bool(true), None, None), "是");
    }

    #[test]
    fn codes_show_their_labels() {
        let codes = CodeCatalog::defaults();
        let v = Val::Str("C".into());
        assert_eq!(show(&v, Some("housing_safety"), Some(&codes)), "危房C级");
        assert_eq!(
            show(&Val::Str("lifted".into()), Some("@status"), None),
            "已脱贫户"
        );
    }

    #[test]
    fn three_valued_logic() {
        use Outcome::*;
        assert_eq!(Fail.and(Unknown), Fail);
        assert_eq!(Pass.and(Unknown), Unknown);
        assert_eq!(Pass.or(Unknown), Pass);
        assert_eq!(Fail.or(Unknown), Unknown);
        assert_eq!(Unknown.negate(), Unknown);
    }
}
