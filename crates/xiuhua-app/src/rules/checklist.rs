//! Checklists: a rule set applied to one unit, ready to show (each item's outcome and
//! explanation), and the checklists of a household.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use xiuhua_rules::{Facts, Level, Outcome, RuleSet, SetOutcome, Val};

use crate::{CurrentUser, Result, Services};

/// One item's result, ready to show.
#[derive(Clone, Debug, Serialize)]
pub struct ItemView {
    /// Item code.
    pub code: String,
    /// Chinese label.
    pub label: String,
    /// Kind (storage form).
    pub kind: &'static str,
    /// Kind in Chinese.
    pub kind_zh: &'static str,
    /// pass / fail / unknown.
    pub outcome: Outcome,
    /// Outcome in Chinese (达标, 否决, 触发, 无法判断 …).
    pub outcome_zh: &'static str,
    /// How the outcome is coloured (`good`, `bad`, `neutral`, `unknown`: `Kind::tone`).
    pub tone: &'static str,
    /// Points of a score item.
    pub points: Option<f64>,
    /// The explanation with the values used.
    pub explain: String,
    /// The item is not confirmed by a source.
    pub unconfirmed: bool,
}

/// A rule set applied to one unit, ready to show.
#[derive(Clone, Debug, Serialize)]
pub struct Checklist {
    /// Rule-set id.
    pub set_id: String,
    /// Version.
    pub version: i64,
    /// Chinese name.
    pub name: String,
    /// Purpose (storage form).
    pub purpose: &'static str,
    /// Purpose in Chinese.
    pub purpose_zh: &'static str,
    /// The set's decision.
    pub decision: Outcome,
    /// The decision in Chinese.
    pub decision_zh: &'static str,
    /// How the decision is coloured (`Purpose::tone`).
    pub decision_tone: &'static str,
    /// Total score (scorecards).
    pub score: Option<f64>,
    /// The set as a whole is not confirmed (`RuleSet::is_unconfirmed`; items carry their own mark).
    pub unconfirmed: bool,
    /// The date the data was taken as of.
    pub as_of: NaiveDate,
    /// Items, in file order.
    pub items: Vec<ItemView>,
    /// How many items passed.
    pub passed: usize,
}

/// The decision in Chinese, as the set's purpose words it.
fn decision_zh(set: &RuleSet, o: Outcome) -> &'static str {
    let (yes, no) = set.def.purpose.holds_zh();
    match o {
        Outcome::Pass => yes,
        Outcome::Fail => no,
        Outcome::Unknown => "无法判断（数据不全）",
    }
}

/// Builds the checklist of one evaluated unit.
pub fn checklist(
    set: &RuleSet,
    facts: &Facts<'_>,
    params: &xiuhua_rules::ParamValues,
    inputs: &[Val<'_>],
    out: &SetOutcome,
    as_of: NaiveDate,
    codes: &xiuhua_domain::CodeCatalog,
) -> Checklist {
    let items = set
        .items
        .iter()
        .zip(&out.items)
        .enumerate()
        .map(|(i, (it, o))| ItemView {
            code: it.def.code.clone(),
            label: it.def.label.clone(),
            kind: it.def.kind.as_str(),
            kind_zh: it.def.kind.label_zh(),
            outcome: o.outcome,
            outcome_zh: it.def.kind.outcome_zh(o.outcome),
            tone: it.def.kind.tone(o.outcome),
            points: o.points,
            // A quality check's explanation describes the problem: shown only when there is one.
            explain: if set.def.purpose == xiuhua_rules::Purpose::Quality
                && o.outcome == Outcome::Pass
            {
                String::new()
            } else {
                set.explain(i, facts, params, inputs, Some(codes))
            },
            unconfirmed: it.def.unconfirmed,
        })
        .collect();
    Checklist {
        set_id: set.def.id.clone(),
        version: set.def.version,
        name: set.def.name.clone(),
        purpose: set.def.purpose.as_str(),
        purpose_zh: set.def.purpose.label_zh(),
        decision: out.decision,
        decision_zh: decision_zh(set, out.decision),
        decision_tone: set.def.purpose.tone(out.decision),
        score: out.score,
        unconfirmed: set.is_unconfirmed(),
        as_of,
        passed: out
            .items
            .iter()
            .filter(|o| o.outcome == Outcome::Pass)
            .count(),
        items,
    }
}

/// The checklists of every household-level rule set that applies to a household (its region and
/// the year of `as_of`, default today), reading the facts recorded for it as of that date.
/// `inputs` gives values for declared inputs by name, over the recorded ones (what-if); a name
/// no household rule set declares, or a value of the wrong type, is refused.
pub async fn household_checklists(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    as_of: Option<NaiveDate>,
    inputs: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<Checklist>> {
    crate::survey::check_facts(s, Level::Household, inputs)?;
    let view = crate::registry::household(s, user, id, as_of).await?;
    Ok(checklists_of(s, &view, inputs))
}

/// The checklists of a household already read (and scope-checked) by `registry::household`:
/// pure evaluation, no database access. The household's recorded facts (入户核查) as of the
/// view's date are its inputs; `inputs` override them by name.
pub fn checklists_of(
    s: &Services,
    view: &crate::registry::HouseholdView,
    inputs: &BTreeMap<String, serde_json::Value>,
) -> Vec<Checklist> {
    let on = view.as_of.unwrap_or_else(|| s.clock.today());
    let codes = s.codes();
    // Rules read the real data; explanations, which quote values, the state as shown.
    let facts = Facts::household(view.real_state(), on);
    let shown = (!view.full_personal_data).then(|| Facts::household(&view.state, on));
    // The facts recorded by 入户核查 as of the date, overridden by the inputs given.
    let inputs_in = super::with_recorded(&view.real_state().fields.facts, Some(inputs));
    let mut out = Vec::new();
    for set in s.rules().current() {
        if set.def.level != Level::Household
            || !set.applies(&view.state.fields.village_code, on.year())
        {
            continue;
        }
        let params = set.params_for(on.year(), &BTreeMap::new());
        let inp = set.inputs_from(&inputs_in);
        let r = set.evaluate(&facts, &params, &inp);
        let explained = shown.as_ref().unwrap_or(&facts);
        out.push(checklist(&set, explained, &params, &inp, &r, on, &codes));
    }
    out
}
