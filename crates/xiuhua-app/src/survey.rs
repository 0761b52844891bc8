//! 入户核查 / 信息采集: the facts the rule sets read that no registry field holds (两不愁, 刚性支出,
//! 上年度收入, the scorecard's belongings …), recorded as events of the household's own history
//! ([`EventKind::Survey`], [`Change::SetFacts`]) with who, when, source and effective date, so
//! the state as of any date carries the facts known then and the rules read them from there.
//!
//! Which facts exist, their types, labels and 信息采集表 groups come from the rule sets in the
//! book: the union of the inputs they declare ([`declared`]); the survey form of one household
//! shows those of the sets in force for its region and year ([`survey_form`]).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::Value;
use xiuhua_domain::event::{Change, EventKind};
use xiuhua_domain::message::msg;
use xiuhua_domain::validate::FieldError;
use xiuhua_rules::{Level, Ty};

use crate::registry::{ChangeMeta, HouseholdView};
use crate::rules::Checklist;
use crate::{CurrentUser, Error, Result, Services};

/// A fact a rule set declares as an input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FactDecl {
    /// Input name (the key of the recorded facts).
    pub name: String,
    /// `bool`, `int`, `double` or `string`.
    pub ty: &'static str,
    /// Chinese label (of the first set declaring it).
    pub label: String,
    /// 信息采集表 group.
    pub group: String,
    /// The label says the value is in 元 (a money amount).
    pub money: bool,
    /// Ids of the sets declaring it.
    pub sets: Vec<String>,
}

fn ty_name(t: Ty) -> &'static str {
    match t {
        Ty::Bool => "bool",
        Ty::Int => "int",
        Ty::Double => "double",
        _ => "string",
    }
}

/// The union of the inputs declared by the sets in `sets` at `level`, in 信息采集表 group order
/// (then first declaration order).
fn union<'a>(sets: impl Iterator<Item = &'a xiuhua_rules::RuleSet>, level: Level) -> Vec<FactDecl> {
    let mut out: Vec<FactDecl> = Vec::new();
    for set in sets.filter(|s| s.def.level == level) {
        for (name, ty) in &set.input_types {
            if let Some(d) = out.iter_mut().find(|d| &d.name == name) {
                d.sets.push(set.def.id.clone());
                continue;
            }
            let label = set
                .def
                .inputs
                .get(name)
                .map(|i| i.label.clone())
                .unwrap_or_default();
            out.push(FactDecl {
                name: name.clone(),
                ty: ty_name(*ty),
                money: label.contains('元'),
                label,
                group: set.input_group(name).to_string(),
                sets: vec![set.def.id.clone()],
            });
        }
    }
    out.sort_by_key(|d| xiuhua_rules::ruleset::group_rank(&d.group));
    out
}

/// Every fact the rule sets in force declare at `level` (the names that may be recorded).
pub fn declared(s: &Services, level: Level) -> Vec<FactDecl> {
    let sets = s.rules().current();
    union(sets.iter().map(|s| s.as_ref()), level)
}

/// The facts the sets in force for a unit in `region` in `year` declare at `level` (the fields
/// of its survey form).
pub fn declared_for(s: &Services, level: Level, region: &str, year: i32) -> Vec<FactDecl> {
    let sets = s.rules().current();
    union(
        sets.iter()
            .map(|s| s.as_ref())
            .filter(|s| s.applies(region, year)),
        level,
    )
}

/// One value checked against its declaration: the value to store (an int given for a double
/// becomes a double), or why it is refused. `null` (unknown, forget) is always accepted.
fn check_value(d: &FactDecl, v: &Value) -> std::result::Result<Value, FieldError> {
    let ok = match (d.ty, v) {
        (_, Value::Null) | ("bool", Value::Bool(_)) | ("string", Value::String(_)) => {
            return Ok(v.clone());
        }
        ("int", Value::Number(n)) => n.as_i64().map(Value::from),
        ("double", Value::Number(n)) => n.as_f64().map(Value::from),
        _ => None,
    };
    ok.ok_or_else(|| {
        FieldError::new(
            "入户核查",
            &d.name,
            "fact_wrong_type",
            msg("fact_wrong_type")
                .arg("label", &d.label)
                .arg("name", &d.name)
                .arg("type_zh", type_zh(d.ty))
                .arg("type", d.ty)
                .arg("value", v.to_string()),
        )
    })
}

/// A type in Chinese words.
fn type_zh(ty: &str) -> &'static str {
    match ty {
        "bool" => "是/否",
        "int" => "整数",
        "double" => "数值",
        _ => "文字",
    }
}

/// Checks facts by name against what the rule sets in force declare at `level`: every name must
/// be declared and every value of its type. Returns the values to store.
pub fn check_facts(
    s: &Services,
    level: Level,
    facts: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>> {
    let decls = declared(s, level);
    let mut errs = Vec::new();
    let mut out = BTreeMap::new();
    for (name, v) in facts {
        let Some(d) = decls.iter().find(|d| &d.name == name) else {
            let names: Vec<&str> = decls.iter().map(|d| d.name.as_str()).collect();
            errs.push(FieldError::new(
                "入户核查",
                name,
                "unknown_fact",
                msg("unknown_fact")
                    .arg("name", name)
                    .arg("declared", names.join("、")),
            ));
            continue;
        };
        match check_value(d, v) {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(errs))
    }
}

/// Records facts of a household (入户核查): one [`EventKind::Survey`] event with only the facts
/// that change (a `null` forgets one), through the registry's one write path (scope, role,
/// closed years, optimistic version). Nothing changed writes nothing. Returns the new version.
pub async fn record_facts(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    facts: &BTreeMap<String, Value>,
    meta: &ChangeMeta,
) -> Result<i64> {
    user.require_write()?;
    let facts = check_facts(s, Level::Household, facts)?;
    let view = crate::registry::household(s, user, id, Some(meta.effective_date)).await?;
    let known = &view.real_state().fields.facts;
    let changed: BTreeMap<String, Value> = facts
        .into_iter()
        .filter(|(k, v)| known.get(k).unwrap_or(&Value::Null) != v)
        .collect();
    if changed.is_empty() {
        return Ok(expected_version);
    }
    let mut tx = s.db.begin().await?;
    crate::registry::write_event(
        s,
        &mut tx,
        user,
        id,
        Some(expected_version),
        EventKind::Survey,
        vec![Change::SetFacts { facts: changed }],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(expected_version + 1)
}

/// Reads a survey form's fields (name → text as submitted) into fact values: for a yes/no fact
/// `yes`/`no` (blank is unknown, never 否), numbers for numeric facts (money in 元, `,` allowed),
/// text as is. Blank fields are unknown (`null`). Fields the declarations do not name are
/// ignored (the form's own fields: version, date, reason). Returns the values and the fields
/// that could not be read.
pub fn parse_form(
    decls: &[FactDecl],
    form: &BTreeMap<String, String>,
) -> (BTreeMap<String, Value>, Vec<FieldError>) {
    let mut out = BTreeMap::new();
    let mut errs = Vec::new();
    for d in decls {
        let Some(raw) = form.get(&format!("fact.{}", d.name)) else {
            continue;
        };
        let t = raw.trim().replace([',', '，'], "");
        let v = match (d.ty, t.as_str()) {
            (_, "") => Some(Value::Null),
            ("bool", "yes" | "true" | "是") => Some(Value::Bool(true)),
            ("bool", "no" | "false" | "否") => Some(Value::Bool(false)),
            ("int", _) => t.parse::<i64>().ok().map(Value::from),
            ("double", _) => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::from),
            ("string", _) => Some(Value::String(raw.trim().to_string())),
            _ => None,
        };
        match v {
            Some(v) => {
                out.insert(d.name.clone(), v);
            }
            None => errs.push(FieldError::new(
                "入户核查",
                &d.name,
                "fact_wrong_type",
                msg("fact_wrong_type")
                    .arg("label", &d.label)
                    .arg("name", &d.name)
                    .arg("type_zh", type_zh(d.ty))
                    .arg("type", d.ty)
                    .arg("value", raw),
            )),
        }
    }
    (out, errs)
}

/// One fact on the survey form.
#[derive(Clone, Debug, Serialize)]
pub struct FormFact {
    /// The declaration.
    pub decl: FactDecl,
    /// The value shown: `yes`/`no`/"" for yes/no facts, the number or text as written.
    pub value: String,
}

/// One 信息采集表 group of the form.
#[derive(Clone, Debug, Serialize)]
pub struct FormGroup {
    /// Group name (两不愁, 义务教育 …).
    pub name: String,
    /// Its facts.
    pub facts: Vec<FormFact>,
}

/// The survey form of one household: the facts of the rule sets in force for its region and
/// year, grouped, with the values recorded; and its checklists with those facts.
#[derive(Clone, Debug)]
pub struct SurveyForm {
    /// The household (scope-checked, masked for the user).
    pub view: HouseholdView,
    /// The facts, by group, in form order.
    pub groups: Vec<FormGroup>,
    /// The user may record facts (a writing role in scope).
    pub can_write: bool,
    /// The household's checklists with the values shown.
    pub checklists: Vec<Checklist>,
    /// The survey events of the household, newest first: (effective date, actor, source in
    /// Chinese, reason, number of facts).
    pub history: Vec<(NaiveDate, String, &'static str, String, usize)>,
}

/// A stored value as the form shows it.
fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The groups of a form with `values` shown (form text by name, else the recorded value).
pub fn form_groups(
    decls: Vec<FactDecl>,
    recorded: &BTreeMap<String, Value>,
    entered: Option<&BTreeMap<String, String>>,
) -> Vec<FormGroup> {
    let mut groups: Vec<FormGroup> = Vec::new();
    for d in decls {
        let value = match entered.and_then(|e| e.get(&format!("fact.{}", d.name))) {
            Some(t) => t.clone(),
            None => shown(recorded.get(&d.name)),
        };
        let f = FormFact { decl: d, value };
        match groups.iter_mut().find(|g| g.name == f.decl.group) {
            Some(g) => g.facts.push(f),
            None => groups.push(FormGroup {
                name: f.decl.group.clone(),
                facts: vec![f],
            }),
        }
    }
    groups
}

/// The survey form of a household (any role that may see it; only writing roles may save).
/// `entered` is a submitted form to show again (a refusal, a preview) instead of the recorded
/// values; the checklists then read the entered values over the recorded ones.
pub async fn survey_form(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    entered: Option<&BTreeMap<String, String>>,
) -> Result<SurveyForm> {
    let view = crate::registry::household(s, user, id, None).await?;
    let on = s.clock.today();
    let decls = declared_for(
        s,
        Level::Household,
        &view.state.fields.village_code,
        on.year(),
    );
    let recorded = view.real_state().fields.facts.clone();
    let given = match entered {
        Some(e) => parse_form(&decls, e).0,
        None => BTreeMap::new(),
    };
    let checklists = crate::rules::checklists_of(s, &view, &given);
    let history = view
        .events
        .iter()
        .rev()
        .filter(|e| e.kind == EventKind::Survey)
        .map(|e| {
            let n = e
                .changes
                .iter()
                .map(|c| match c {
                    Change::SetFacts { facts } => facts.len(),
                    _ => 0,
                })
                .sum();
            (
                e.effective_date,
                e.actor.clone(),
                e.source.label_zh(),
                e.reason.clone(),
                n,
            )
        })
        .collect();
    Ok(SurveyForm {
        groups: form_groups(decls, &recorded, entered),
        can_write: user.role.can_write(),
        checklists,
        history,
        view,
    })
}

/// The checklists a survey form would give (the live verdicts while it is filled): the entered
/// values over the recorded ones, nothing written. Fields that cannot be read stay unknown.
pub async fn preview(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    entered: &BTreeMap<String, String>,
) -> Result<Vec<Checklist>> {
    Ok(survey_form(s, user, id, Some(entered)).await?.checklists)
}
