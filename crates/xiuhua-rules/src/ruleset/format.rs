//! The rule-set file format: what a TOML file holds (`RuleSetDef` and its parts), as written,
//! before checking.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::schema::{Level, Ty};
use crate::value::{Outcome, Val};

/// Why a rule set is being applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 脱贫退出 standard.
    Exit,
    /// 精准识别 scorecard.
    Identification,
    /// 防返贫监测 line and triggers.
    Monitoring,
    /// Data-quality checks.
    Quality,
}

impl Purpose {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Exit => "exit",
            Purpose::Identification => "identification",
            Purpose::Monitoring => "monitoring",
            Purpose::Quality => "quality",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Purpose::Exit => "脱贫退出标准",
            Purpose::Identification => "识别评分",
            Purpose::Monitoring => "防返贫监测",
            Purpose::Quality => "数据质量检查",
        }
    }

    /// What "the set holds" means, in Chinese.
    pub fn holds_zh(self) -> (&'static str, &'static str) {
        match self {
            Purpose::Exit => ("达到标准", "未达标准"),
            Purpose::Identification => ("识别为贫困户", "不识别"),
            Purpose::Monitoring => ("应纳入监测", "不纳入监测"),
            Purpose::Quality => ("全部通过", "有问题"),
        }
    }

    /// How a set's decision should be coloured (`good`, `bad`, `neutral`, `unknown`): meeting an
    /// exit standard or passing every quality check is good; a monitoring set that holds found a
    /// risk (bad) and one that does not hold is good; an identification decides a status and is
    /// neutral.
    pub fn tone(self, o: Outcome) -> &'static str {
        match (self, o) {
            (_, Outcome::Unknown) => "unknown",
            (Purpose::Identification, _) => "neutral",
            (Purpose::Exit | Purpose::Quality, Outcome::Pass) => "good",
            (Purpose::Exit | Purpose::Quality, Outcome::Fail) => "bad",
            (Purpose::Monitoring, Outcome::Pass) => "bad",
            (Purpose::Monitoring, Outcome::Fail) => "good",
        }
    }
}

/// The role of an item in the set's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Must pass for the set to hold.
    Required,
    /// Shown, decides nothing (参考指标).
    Reference,
    /// 一票否决: true means the veto applies and the set does not hold.
    Veto,
    /// A risk trigger: the set holds only if at least one trigger is true.
    Trigger,
    /// Points, summed and compared with the cut-off.
    Score,
}

impl Kind {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Required => "required",
            Kind::Reference => "reference",
            Kind::Veto => "veto",
            Kind::Trigger => "trigger",
            Kind::Score => "score",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Required => "必备",
            Kind::Reference => "参考",
            Kind::Veto => "一票否决",
            Kind::Trigger => "风险触发",
            Kind::Score => "评分",
        }
    }

    /// How an item's outcome reads, in Chinese.
    pub fn outcome_zh(self, o: Outcome) -> &'static str {
        match (self, o) {
            (_, Outcome::Unknown) => "无法判断",
            (Kind::Veto, Outcome::Pass) => "否决",
            (Kind::Veto, Outcome::Fail) => "未触发",
            (Kind::Trigger, Outcome::Pass) => "触发",
            (Kind::Trigger, Outcome::Fail) => "未触发",
            (Kind::Score, _) => "得分",
            (_, Outcome::Pass) => "达标",
            (_, Outcome::Fail) => "未达标",
        }
    }

    /// How an item's outcome should be coloured: `good`, `bad`, `neutral` or `unknown`. A
    /// veto or risk trigger that does not fire is good, one that fires is bad; a reference
    /// item decides nothing and is always neutral; a score is neutral.
    pub fn tone(self, o: Outcome) -> &'static str {
        match (self, o) {
            (_, Outcome::Unknown) => "unknown",
            (Kind::Reference | Kind::Score, _) => "neutral",
            (Kind::Veto | Kind::Trigger, Outcome::Pass) => "bad",
            (Kind::Veto | Kind::Trigger, Outcome::Fail) => "good",
            (Kind::Required, Outcome::Pass) => "good",
            (Kind::Required, Outcome::Fail) => "bad",
        }
    }
}

/// A parameter value in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// bool
    Bool(bool),
    /// int
    Int(i64),
    /// double
    Double(f64),
    /// string
    Str(String),
}

impl ParamValue {
    /// Its type.
    pub(super) fn ty(&self) -> Ty {
        match self {
            ParamValue::Bool(_) => Ty::Bool,
            ParamValue::Int(_) => Ty::Int,
            ParamValue::Double(_) => Ty::Double,
            ParamValue::Str(_) => Ty::Str,
        }
    }

    /// As an evaluation value.
    pub fn val(&self) -> Val<'static> {
        match self {
            ParamValue::Bool(b) => Val::Bool(*b),
            ParamValue::Int(i) => Val::Int(*i),
            ParamValue::Double(d) => Val::Double(*d),
            ParamValue::Str(s) => Val::Str(s.clone().into()),
        }
    }
}

/// A named parameter: a value, optionally one per year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Chinese label.
    pub label: String,
    /// Unit shown after the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The value for years not in `by_year` (none: such years are unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ParamValue>,
    /// Values by year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_year: BTreeMap<String, ParamValue>,
    /// The value is not confirmed by a source.
    #[serde(default)]
    pub unconfirmed: bool,
}

impl Param {
    /// The value for `year`.
    pub fn for_year(&self, year: i32) -> Option<&ParamValue> {
        self.by_year.get(&year.to_string()).or(self.value.as_ref())
    }
}

/// A declared fact the registry does not hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// bool | int | double | string
    #[serde(rename = "type")]
    pub ty: String,
    /// Chinese label.
    pub label: String,
    /// The 信息采集表 group the survey form shows it in (one of
    /// [`INPUT_GROUPS`](crate::ruleset::INPUT_GROUPS); default: the shipped table, else 其他).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// One item as written in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemDef {
    /// Unique code within the set.
    pub code: String,
    /// Chinese label.
    pub label: String,
    /// Role in the decision.
    pub kind: Kind,
    /// CEL expression.
    pub expr: String,
    /// Explanation template with `{name}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<String>,
    /// Not confirmed by a source.
    #[serde(default)]
    pub unconfirmed: bool,
}

/// When a set with score items holds: a fixed cut-off score, or a quota (规模控制: the `quota`
/// lowest- or highest-scoring eligible units of a batch run), or both (the quota then applies
/// among those past the cut-off).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// The cut-off score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutoff: Option<f64>,
    /// How many units hold, by rank, in a batch run over a county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<u64>,
    /// `below`: holds when the total is below the cut-off / ranks lowest (lower = poorer);
    /// `above`: the opposite.
    pub holds_when: String,
}

/// A rule-set file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetDef {
    /// Stable id.
    pub id: String,
    /// Version, increased on every change.
    pub version: i64,
    /// Chinese name.
    pub name: String,
    /// English name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// What one evaluation is about.
    pub level: Level,
    /// Why it is applied.
    pub purpose: Purpose,
    /// Region-code prefix it applies to ("" = national).
    #[serde(default)]
    pub region: String,
    /// First and (optionally) last year.
    pub years: Vec<i32>,
    /// Where the criteria come from.
    #[serde(default)]
    pub source: String,
    /// The set as a whole is not confirmed.
    #[serde(default)]
    pub unconfirmed: bool,
    /// Free text.
    #[serde(default)]
    pub note: String,
    /// Named parameters.
    #[serde(default)]
    pub params: IndexMap<String, Param>,
    /// Declared inputs.
    #[serde(default)]
    pub inputs: IndexMap<String, Input>,
    /// The items.
    pub items: Vec<ItemDef>,
    /// Cut-off for score items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<Scoring>,
}

#[cfg(test)]
mod tone_tests {
    use super::{Kind, Purpose};
    use crate::value::Outcome;

    #[test]
    fn a_good_result_is_never_bad_and_reference_items_are_neutral() {
        // 未触发 is good for vetoes and risk triggers; firing is bad.
        assert_eq!(Kind::Veto.outcome_zh(Outcome::Fail), "未触发");
        assert_eq!(Kind::Veto.tone(Outcome::Fail), "good");
        assert_eq!(Kind::Trigger.outcome_zh(Outcome::Fail), "未触发");
        assert_eq!(Kind::Trigger.tone(Outcome::Fail), "good");
        assert_eq!(Kind::Trigger.tone(Outcome::Pass), "bad");
        assert_eq!(Kind::Required.tone(Outcome::Pass), "good");
        assert_eq!(Kind::Required.tone(Outcome::Fail), "bad");
        for o in [Outcome::Pass, Outcome::Fail] {
            assert_eq!(Kind::Reference.tone(o), "neutral");
        }
        for k in [
            Kind::Required,
            Kind::Reference,
            Kind::Veto,
            Kind::Trigger,
            Kind::Score,
        ] {
            assert_eq!(k.tone(Outcome::Unknown), "unknown");
        }
        // Decisions: a monitoring set that holds found a risk.
        assert_eq!(Purpose::Monitoring.tone(Outcome::Pass), "bad");
        assert_eq!(Purpose::Monitoring.tone(Outcome::Fail), "good");
        assert_eq!(Purpose::Exit.tone(Outcome::Pass), "good");
        assert_eq!(Purpose::Identification.tone(Outcome::Pass), "neutral");
    }
}
