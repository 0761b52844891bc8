//! Rule sets: the TOML file format, loading with complete checking, and evaluation of one unit
//! (household, village or county) with its explanation.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use xiuhua_domain::CodeCatalog;

use crate::expr::{Compiled, Cx, ExprError, Ref, Scope, compile};
use crate::schema::{Facts, Level, Ty};
use crate::value::{Outcome, Val, show};

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
    fn ty(&self) -> Ty {
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

/// A rule set refused at load time: file, item and position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{}{message_en}", item.as_ref().map(|i| format!("item {i}: ")).unwrap_or_default(), position.map(|(l, c)| format!("line {l}, column {c}: ")).unwrap_or_default())]
pub struct LoadError {
    /// The file (or name) the text came from.
    pub file: String,
    /// The item code, if the problem is in an item.
    pub item: Option<String>,
    /// Line and column in the file (1-based), where known.
    pub position: Option<(usize, usize)>,
    /// Chinese message.
    pub message_zh: String,
    /// English message.
    pub message_en: String,
}

impl LoadError {
    /// The message a Chinese reader sees: 文件 x，检查项 y，第 l 行第 c 列：…
    pub fn to_zh(&self) -> String {
        let mut s = format!("规则文件 {}", self.file);
        if let Some(i) = &self.item {
            s.push_str(&format!("，检查项 {i}"));
        }
        if let Some((l, c)) = self.position {
            s.push_str(&format!("，第 {l} 行第 {c} 列"));
        }
        s.push('：');
        s.push_str(&self.message_zh);
        s
    }
}

/// One piece of an explanation template.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Ref(Ref),
}

/// A compiled item.
#[derive(Clone, Debug)]
pub struct Item {
    /// As written.
    pub def: ItemDef,
    /// The compiled expression.
    pub compiled: Compiled,
    template: Option<Vec<Piece>>,
}

/// A loaded, fully checked rule set.
#[derive(Clone, Debug)]
pub struct RuleSet {
    /// As written.
    pub def: RuleSetDef,
    /// Compiled items, in file order.
    pub items: Vec<Item>,
    /// The source text (stored with every version).
    pub source: String,
    /// Parameter names and types, in file order.
    pub param_types: Vec<(String, Ty)>,
    /// Input names and types, in file order.
    pub input_types: Vec<(String, Ty)>,
}

/// The result of one item for one unit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemOutcome {
    /// Pass/fail/unknown (for score items: pass when the points are known).
    pub outcome: Outcome,
    /// Points of a score item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
}

/// The result of a whole set for one unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetOutcome {
    /// Whether the set holds (meets the standard / should be monitored / identified / clean).
    pub decision: Outcome,
    /// Total score, for sets with score items (unknown if any item is unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// One per item, in file order.
    pub items: Vec<ItemOutcome>,
    /// The decision without the score criterion (required items, vetoes, triggers): what a quota
    /// ranks among.
    #[serde(default = "unknown_outcome")]
    pub eligible: Outcome,
}

fn unknown_outcome() -> Outcome {
    Outcome::Unknown
}

/// Parameter values for one year, ready for evaluation.
#[derive(Clone, Debug)]
pub struct ParamValues(pub Vec<Val<'static>>);

fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl RuleSet {
    /// Parses and checks a rule-set file completely. `file` names it in errors.
    pub fn load(file: &str, text: &str) -> Result<RuleSet, LoadError> {
        let fail =
            |item: Option<&str>, pos: Option<(usize, usize)>, zh: String, en: String| LoadError {
                file: file.to_string(),
                item: item.map(str::to_string),
                position: pos,
                message_zh: zh,
                message_en: en,
            };
        let def: RuleSetDef = toml::from_str(text).map_err(|e| {
            let pos = e.span().map(|s| line_col(text, s.start));
            let msg = e.message().to_string();
            fail(
                None,
                pos,
                format!("文件格式错误：{msg}"),
                format!("invalid rule file: {msg}"),
            )
        })?;
        // Where each item's expression starts in the file, for positions.
        let expr_at = |code: &str, expr: &str| -> Option<usize> {
            let code_at = text
                .find(&format!("code = \"{code}\""))
                .or_else(|| text.find(&format!("code = '{code}'")))?;
            let rest = &text[code_at..];
            let expr_key = rest.find("expr")?;
            let after = &rest[expr_key..];
            let inner = after.find(expr.lines().next().unwrap_or(expr))?;
            Some(code_at + expr_key + inner)
        };
        if !valid_id(&def.id) {
            return Err(fail(
                None,
                None,
                format!("规则集编号 {:?} 只能含小写字母、数字和 -", def.id),
                format!(
                    "rule-set id {:?} may hold lower-case letters, digits and '-' only",
                    def.id
                ),
            ));
        }
        if def.version < 1 {
            return Err(fail(
                None,
                None,
                "version 必须是正整数".into(),
                "version must be a positive integer".into(),
            ));
        }
        if def.years.is_empty()
            || def.years.len() > 2
            || (def.years.len() == 2 && def.years[0] > def.years[1])
        {
            return Err(fail(
                None,
                None,
                "years 应为 [起始年] 或 [起始年, 终止年]".into(),
                "years must be [first] or [first, last]".into(),
            ));
        }
        if !def.region.chars().all(|c| c.is_ascii_digit()) || def.region.len() > 12 {
            return Err(fail(
                None,
                None,
                format!("region {:?} 不是区划代码前缀", def.region),
                format!("region {:?} is not a region-code prefix", def.region),
            ));
        }
        if def.items.is_empty() {
            return Err(fail(
                None,
                None,
                "规则集没有检查项".into(),
                "the rule set has no items".into(),
            ));
        }
        let mut param_types = Vec::new();
        for (name, p) in &def.params {
            let mut tys: Vec<Ty> = p
                .value
                .iter()
                .chain(p.by_year.values())
                .map(ParamValue::ty)
                .collect();
            if tys.is_empty() {
                return Err(fail(
                    None,
                    None,
                    format!("参数 {name} 没有取值（value 或 by_year）"),
                    format!("parameter {name} has no value (value or by_year)"),
                ));
            }
            for y in p.by_year.keys() {
                if y.parse::<i32>()
                    .map(|y| !(1949..=2200).contains(&y))
                    .unwrap_or(true)
                {
                    return Err(fail(
                        None,
                        None,
                        format!("参数 {name} 的年度 {y} 无效"),
                        format!("parameter {name}: invalid year {y}"),
                    ));
                }
            }
            // int and double values may mix in a table: the parameter is then double.
            if tys.iter().all(|t| t.is_numeric()) && tys.contains(&Ty::Double) {
                tys = vec![Ty::Double];
            }
            let ty = tys[0];
            if tys.iter().any(|t| *t != ty) {
                return Err(fail(
                    None,
                    None,
                    format!("参数 {name} 的取值类型不一致"),
                    format!("parameter {name} mixes value types"),
                ));
            }
            param_types.push((name.clone(), ty));
        }
        let mut input_types = Vec::new();
        for (name, i) in &def.inputs {
            let ty = match i.ty.as_str() {
                "bool" => Ty::Bool,
                "int" => Ty::Int,
                "double" => Ty::Double,
                "string" => Ty::Str,
                other => {
                    return Err(fail(
                        None,
                        None,
                        format!("输入项 {name} 的类型 {other} 无效（bool/int/double/string）"),
                        format!("input {name}: invalid type {other} (bool/int/double/string)"),
                    ));
                }
            };
            if def.level.vars().iter().any(|v| v.name == name) || def.params.contains_key(name) {
                return Err(fail(
                    None,
                    None,
                    format!("输入项 {name} 与变量或参数同名"),
                    format!("input {name} has the name of a variable or parameter"),
                ));
            }
            input_types.push((name.clone(), ty));
        }
        for (name, _) in &param_types {
            if def.level.vars().iter().any(|v| v.name == name) {
                return Err(fail(
                    None,
                    None,
                    format!("参数 {name} 与{}级变量同名", def.level.label_zh()),
                    format!(
                        "parameter {name} has the name of a {} variable",
                        def.level.as_str()
                    ),
                ));
            }
        }
        let scope = Scope {
            level: def.level,
            params: &param_types,
            inputs: &input_types,
        };
        let mut items = Vec::with_capacity(def.items.len());
        let mut codes = std::collections::HashSet::new();
        for it in &def.items {
            if !codes.insert(it.code.as_str()) {
                return Err(fail(
                    Some(&it.code),
                    None,
                    "检查项编号重复".into(),
                    "duplicate item code".into(),
                ));
            }
            let compiled = compile(&it.expr, &scope).map_err(|e: ExprError| {
                let pos = expr_at(&it.code, &it.expr).map(|at| {
                    let (l, c) = line_col(text, at);
                    if e.line == 1 {
                        (l, c + e.column - 1)
                    } else {
                        (l + e.line - 1, e.column)
                    }
                });
                fail(Some(&it.code), pos, e.message_zh, e.message_en)
            })?;
            let want_bool = it.kind != Kind::Score;
            if want_bool && compiled.ty != Ty::Bool {
                return Err(fail(
                    Some(&it.code),
                    None,
                    format!(
                        "{}项的表达式必须是 bool，这里是 {}",
                        it.kind.label_zh(),
                        compiled.ty.name()
                    ),
                    format!(
                        "a {} item needs a bool expression, got {}",
                        it.kind.as_str(),
                        compiled.ty.name()
                    ),
                ));
            }
            if !want_bool && !compiled.ty.is_numeric() {
                return Err(fail(
                    Some(&it.code),
                    None,
                    format!("评分项的表达式必须是数值，这里是 {}", compiled.ty.name()),
                    format!("a score item needs a number, got {}", compiled.ty.name()),
                ));
            }
            let template = match &it.explain {
                Some(t) => Some(
                    parse_template(t, &scope)
                        .map_err(|(zh, en)| fail(Some(&it.code), None, zh, en))?,
                ),
                None => None,
            };
            items.push(Item {
                def: it.clone(),
                compiled,
                template,
            });
        }
        let has_score = items.iter().any(|i| i.def.kind == Kind::Score);
        match (&def.scoring, has_score) {
            (None, true) => {
                return Err(fail(
                    None,
                    None,
                    "有评分项但没有 [scoring] 分数线".into(),
                    "score items need a [scoring] cut-off".into(),
                ));
            }
            (Some(_), false) => {
                return Err(fail(
                    None,
                    None,
                    "有 [scoring] 但没有评分项".into(),
                    "[scoring] without score items".into(),
                ));
            }
            (Some(s), true) if s.cutoff.is_none() && s.quota.is_none() => {
                return Err(fail(
                    None,
                    None,
                    "[scoring] 需要 cutoff（分数线）或 quota（规模）".into(),
                    "[scoring] needs a cutoff or a quota".into(),
                ));
            }
            (Some(s), true) if s.holds_when != "below" && s.holds_when != "above" => {
                return Err(fail(
                    None,
                    None,
                    "scoring.holds_when 只能是 below 或 above".into(),
                    "scoring.holds_when must be below or above".into(),
                ));
            }
            _ => {}
        }
        Ok(RuleSet {
            def,
            items,
            source: text.to_string(),
            param_types,
            input_types,
        })
    }

    /// Whether the set applies to a unit in `region_code` in `year`.
    pub fn applies(&self, region_code: &str, year: i32) -> bool {
        region_code.starts_with(&self.def.region)
            && self.def.years[0] <= year
            && self.def.years.get(1).is_none_or(|last| year <= *last)
    }

    /// Parameter values for `year`, with optional overrides (what-if) by name.
    pub fn params_for(&self, year: i32, overrides: &BTreeMap<String, ParamValue>) -> ParamValues {
        ParamValues(
            self.def
                .params
                .iter()
                .zip(&self.param_types)
                .map(|((name, p), (_, ty))| {
                    let v = overrides.get(name).or_else(|| p.for_year(year));
                    match (v, ty) {
                        (Some(ParamValue::Int(i)), Ty::Double) => Val::Double(*i as f64),
                        (Some(v), _) => v.val(),
                        (None, _) => Val::Unknown,
                    }
                })
                .collect(),
        )
    }

    /// Checks what-if overrides: known names, matching types.
    pub fn check_overrides(
        &self,
        overrides: &BTreeMap<String, ParamValue>,
    ) -> Result<(), LoadError> {
        for (name, v) in overrides {
            let Some((_, ty)) = self.param_types.iter().find(|(n, _)| n == name) else {
                return Err(LoadError {
                    file: self.def.id.clone(),
                    item: None,
                    position: None,
                    message_zh: format!("规则集没有参数 {name}"),
                    message_en: format!("the rule set has no parameter {name}"),
                });
            };
            let ok = v.ty() == *ty || (ty.is_numeric() && v.ty().is_numeric() && *ty == Ty::Double);
            if !ok {
                return Err(LoadError {
                    file: self.def.id.clone(),
                    item: None,
                    position: None,
                    message_zh: format!("参数 {name} 应为 {}", ty.name()),
                    message_en: format!("parameter {name} must be {}", ty.name()),
                });
            }
        }
        Ok(())
    }

    /// Every declared input unknown (nothing given).
    pub fn unknown_inputs(&self) -> Vec<Val<'static>> {
        vec![Val::Unknown; self.input_types.len()]
    }

    /// Input values by name (missing names are unknown), in declaration order.
    pub fn inputs_from(&self, facts: &BTreeMap<String, serde_json::Value>) -> Vec<Val<'static>> {
        self.input_types
            .iter()
            .map(
                |(name, ty)| match (facts.get(name).map(Val::from_json), ty) {
                    (Some(Val::Int(i)), Ty::Double) => Val::Double(i as f64),
                    (Some(v @ Val::Bool(_)), Ty::Bool)
                    | (Some(v @ Val::Int(_)), Ty::Int)
                    | (Some(v @ Val::Double(_)), Ty::Double)
                    | (Some(v @ Val::Str(_)), Ty::Str) => v,
                    _ => Val::Unknown,
                },
            )
            .collect()
    }

    /// Evaluates every item and the decision for one unit.
    pub fn evaluate(
        &self,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
    ) -> SetOutcome {
        let mut cx = Cx {
            facts,
            params: &params.0,
            inputs,
            locals: Vec::new(),
        };
        let mut items = Vec::with_capacity(self.items.len());
        let mut required = Outcome::Pass;
        let mut veto = Outcome::Fail;
        let mut trigger: Option<Outcome> = None;
        let mut score = Some(0.0);
        for it in &self.items {
            let v = it.compiled.node.eval(&mut cx);
            let out = match it.def.kind {
                Kind::Score => {
                    let p = v.as_f64();
                    score = score.zip(p).map(|(a, b)| a + b);
                    ItemOutcome {
                        outcome: if p.is_some() {
                            Outcome::Pass
                        } else {
                            Outcome::Unknown
                        },
                        points: p,
                    }
                }
                kind => {
                    let o = Outcome::of(&v);
                    match kind {
                        Kind::Required => required = required.and(o),
                        Kind::Veto => veto = veto.or(o),
                        Kind::Trigger => trigger = Some(trigger.unwrap_or(Outcome::Fail).or(o)),
                        _ => {}
                    }
                    ItemOutcome {
                        outcome: o,
                        points: None,
                    }
                }
            };
            items.push(out);
        }
        let mut decision = required.and(veto.negate());
        if let Some(t) = trigger {
            decision = decision.and(t);
        }
        let eligible = decision;
        let mut total = None;
        if let Some(s) = &self.def.scoring {
            total = score;
            let by_score = match (score, s.cutoff) {
                // Only a quota: decided by rank in a batch run.
                (_, None) => Outcome::Unknown,
                (None, _) => Outcome::Unknown,
                (Some(x), Some(c))
                    if (s.holds_when == "below" && x < c) || (s.holds_when == "above" && x > c) =>
                {
                    Outcome::Pass
                }
                (Some(_), Some(_)) => Outcome::Fail,
            };
            decision = decision.and(by_score);
        }
        SetOutcome {
            decision,
            score: total,
            items,
            eligible,
        }
    }

    /// The quota of `[scoring]`, if the set has one.
    pub fn quota(&self) -> Option<u64> {
        self.def.scoring.as_ref().and_then(|s| s.quota)
    }

    /// Applies the quota of `[scoring]` to the outcomes of one batch (one county): among the units
    /// that are eligible, scored and (with a cut-off) past it, the `quota` best-ranked hold —
    /// lowest scores first for `below` — and the others do not; ties keep batch order. Returns
    /// false (and changes nothing) when the set has no quota.
    pub fn apply_quota(&self, outcomes: &mut [SetOutcome]) -> bool {
        let Some(s) = &self.def.scoring else {
            return false;
        };
        let Some(quota) = s.quota else {
            return false;
        };
        let mut ranked: Vec<(usize, f64)> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.eligible == Outcome::Pass
                    && o.score.is_some()
                    && (s.cutoff.is_none() || o.decision == Outcome::Pass)
            })
            .filter_map(|(i, o)| Some((i, o.score?)))
            .collect();
        if s.holds_when == "above" {
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        } else {
            ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        }
        for (rank, (i, _)) in ranked.into_iter().enumerate() {
            outcomes[i].decision = if (rank as u64) < quota {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
        }
        true
    }

    /// The value of a referenced name, shown for a reader.
    fn show_ref(
        &self,
        r: Ref,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
        codes: Option<&CodeCatalog>,
    ) -> String {
        // Years read as years: 2019, not 2,019.
        let (name, value) = match r {
            Ref::Var(slot) => (self.def.level.vars()[slot].name, &facts.slots[slot]),
            Ref::Param(i) => (self.param_types[i].0.as_str(), &params.0[i]),
            Ref::Input(i) => (
                self.input_types[i].0.as_str(),
                inputs.get(i).unwrap_or(&Val::Unknown),
            ),
        };
        if let (true, Val::Int(y)) = (name.contains("year"), value) {
            return y.to_string();
        }
        match r {
            Ref::Var(slot) => {
                let def = &self.def.level.vars()[slot];
                show(&facts.slots[slot], def.code_list, codes)
            }
            Ref::Param(i) => show(&params.0[i], None, codes),
            Ref::Input(i) => show(inputs.get(i).unwrap_or(&Val::Unknown), None, codes),
        }
    }

    /// The label of a referenced name.
    pub fn ref_label(&self, r: Ref) -> String {
        match r {
            Ref::Var(slot) => self.def.level.vars()[slot].label_zh.to_string(),
            Ref::Param(i) => self.def.params[i].label.clone(),
            Ref::Input(i) => self.def.inputs[i].label.clone(),
        }
    }

    /// The values an item used, as (label, shown value).
    pub fn values_used(
        &self,
        item: usize,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
        codes: Option<&CodeCatalog>,
    ) -> Vec<(String, String)> {
        self.items[item]
            .compiled
            .refs
            .iter()
            .map(|r| {
                (
                    self.ref_label(*r),
                    self.show_ref(*r, facts, params, inputs, codes),
                )
            })
            .collect()
    }

    /// The explanation of an item for one unit, in Chinese.
    pub fn explain(
        &self,
        item: usize,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
        codes: Option<&CodeCatalog>,
    ) -> String {
        match &self.items[item].template {
            Some(pieces) => pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.clone(),
                    Piece::Ref(r) => self.show_ref(*r, facts, params, inputs, codes),
                })
                .collect(),
            None => self
                .values_used(item, facts, params, inputs, codes)
                .into_iter()
                .map(|(l, v)| format!("{l} {v}"))
                .collect::<Vec<_>>()
                .join("，"),
        }
    }
}

fn parse_template(t: &str, scope: &Scope<'_>) -> Result<Vec<Piece>, (String, String)> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err((
                "说明模板中的 { 没有配对的 }".into(),
                "unbalanced { in the explanation".into(),
            ));
        };
        let name = after[..close].trim();
        let r = if let Some(slot) = scope.level.vars().iter().position(|v| v.name == name) {
            Ref::Var(slot)
        } else if let Some(i) = scope.params.iter().position(|(n, _)| n == name) {
            Ref::Param(i)
        } else if let Some(i) = scope.inputs.iter().position(|(n, _)| n == name) {
            Ref::Input(i)
        } else {
            return Err((
                format!("说明模板引用了未知的名称 {{{name}}}"),
                format!("the explanation refers to unknown name {{{name}}}"),
            ));
        };
        out.push(Piece::Ref(r));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}
