//! What-if simulation: a household rule set evaluated with some parameters changed, next to the
//! rules in force, counted per village with the households that would enter or leave; and the
//! result as a workbook. Nothing is written.

use std::collections::BTreeMap;
use std::sync::Arc;
use xiuhua_domain::message::msg;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use xiuhua_domain::{CodeCatalog, HouseholdState};
use xiuhua_rules::{Facts, Level, Outcome, ParamValue, ParamValues, RuleSet, SetOutcome, Val};
use xiuhua_xlsx::write::{Column, Kind as ColKind, Out, tables_workbook};

use super::{Tally, UnitInputs, evaluate_many, find_set, load_error, region_names};
use crate::{CurrentUser, Error, Result, Services};

/// One household whose decision a what-if change flips.
#[derive(Clone, Debug, Serialize)]
pub struct Flip {
    /// Household id.
    pub household_id: i64,
    /// 户编号.
    pub household_no: String,
    /// 户主姓名.
    pub head_name: String,
    /// Village code.
    pub village_code: String,
    /// Village name (乡镇 村).
    pub village_name: String,
    /// Decision under the rules in force.
    pub before: Outcome,
    /// Decision under the modified rules.
    pub after: Outcome,
    /// Explanation of the first item whose outcome changed, under the modified rules.
    pub reason: String,
}

/// Per-village counts of a simulation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SimVillage {
    /// Village code.
    pub code: String,
    /// Name (乡镇 村).
    pub name: String,
    /// Households evaluated.
    pub units: i64,
    /// Holds under the rules in force.
    pub holds_before: i64,
    /// Holds under the modified rules.
    pub holds_after: i64,
    /// Newly holding (e.g. would enter monitoring).
    pub entered: i64,
    /// No longer holding (would leave).
    pub left: i64,
    /// Whose decision changes at all (also between 不符合 and 无法判断).
    pub changed: i64,
}

/// What a modified rule set would change, without changing anything.
#[derive(Clone, Debug, Serialize)]
pub struct Simulation {
    /// Rule-set id.
    pub set_id: String,
    /// Version simulated against.
    pub version: i64,
    /// Name.
    pub name: String,
    /// What the set decides (the words of its outcomes).
    pub purpose: xiuhua_rules::Purpose,
    /// The overrides (parameter → value).
    pub overrides: BTreeMap<String, ParamValue>,
    /// Region.
    pub region: String,
    /// Data as of.
    pub as_of: NaiveDate,
    /// Totals before.
    pub before: Tally,
    /// Totals after.
    pub after: Tally,
    /// Per village, only villages with households.
    pub villages: Vec<SimVillage>,
    /// Households whose decision changes.
    pub flips: Vec<Flip>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// What a simulation compares each household with: the modified parameters and what an
/// explanation needs.
struct Compare<'a> {
    set: &'a RuleSet,
    modified: &'a ParamValues,
    no_inputs: &'a [Val<'static>],
    codes: &'a CodeCatalog,
    on: NaiveDate,
}

impl Compare<'_> {
    /// A household whose decision differs: `x` under the rules in force, `y` modified. The
    /// reason is the explanation of the first item whose outcome changed.
    fn flip(&self, id: i64, st: &HouseholdState, x: &SetOutcome, y: &SetOutcome) -> Flip {
        let (set, on) = (self.set, self.on);
        let facts = Facts::household(st, on);
        let recorded = if st.fields.facts.is_empty() {
            self.no_inputs.to_vec()
        } else {
            set.inputs_from(&st.fields.facts)
        };
        let reason = x
            .items
            .iter()
            .zip(&y.items)
            .position(|(p, q)| p != q)
            .map(|i| {
                format!(
                    "{}：{}",
                    set.items[i].def.label,
                    set.explain(i, &facts, self.modified, &recorded, Some(self.codes))
                )
            })
            .unwrap_or_default();
        Flip {
            household_id: id,
            household_no: st.fields.household_no.clone(),
            head_name: st.head().map(|h| h.name.clone()).unwrap_or_default(),
            village_code: st.fields.village_code.clone(),
            village_name: String::new(),
            before: x.decision,
            after: y.decision,
            reason,
        }
    }
}

impl SimVillage {
    /// Counts one household: decision `x` before, `y` after.
    fn add(&mut self, x: Outcome, y: Outcome) {
        self.units += 1;
        self.holds_before += i64::from(x == Outcome::Pass);
        self.holds_after += i64::from(y == Outcome::Pass);
        let entered = x != Outcome::Pass && y == Outcome::Pass;
        let left = x == Outcome::Pass && y != Outcome::Pass;
        self.entered += i64::from(entered);
        self.left += i64::from(left);
        self.changed += i64::from(x != y);
    }
}

/// A rule set that can be simulated with `overrides`: household level, known parameters of
/// matching types.
fn simulable(
    s: &Services,
    set_id: &str,
    overrides: &BTreeMap<String, ParamValue>,
) -> Result<Arc<RuleSet>> {
    let set = find_set(s, set_id, None)?;
    if set.def.level != Level::Household {
        return Err(Error::conflict(
            "unsupported_simulation",
            msg("unsupported_simulation"),
        ));
    }
    set.check_overrides(overrides).map_err(load_error)?;
    Ok(set)
}

/// The counts of a simulation so far.
#[derive(Default)]
struct Counts {
    before: Tally,
    after: Tally,
    villages: BTreeMap<String, SimVillage>,
    flips: Vec<Flip>,
}

impl Counts {
    /// Counts one household: decision `x` under the rules in force, `y` modified.
    fn add(
        &mut self,
        compare: &Compare<'_>,
        id: i64,
        st: &HouseholdState,
        x: &SetOutcome,
        y: &SetOutcome,
    ) {
        self.before.add(x.decision);
        self.after.add(y.decision);
        let v = self
            .villages
            .entry(st.fields.village_code.clone())
            .or_default();
        v.add(x.decision, y.decision);
        if x.decision != y.decision {
            self.flips.push(compare.flip(id, st, x, y));
        }
    }
}

/// Evaluates a rule set with some parameters changed against the registry, next to the rules in
/// force, and reports who would enter or leave. Nothing is written.
pub async fn simulate(
    s: &Services,
    user: &CurrentUser,
    set_id: &str,
    region: Option<&str>,
    as_of: Option<NaiveDate>,
    overrides: BTreeMap<String, ParamValue>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Simulation> {
    let started = std::time::Instant::now();
    crate::clock::check_as_of(s.clock.as_ref(), as_of)?;
    let set = simulable(s, set_id, &overrides)?;
    let region = user.narrow(region)?;
    let on = as_of.unwrap_or_else(|| s.clock.today());
    let base = set.params_for(on.year(), &BTreeMap::new());
    let modified = set.params_for(on.year(), &overrides);
    let codes = s.codes();
    let mut counts = Counts::default();
    let no_inputs = set.unknown_inputs();
    let compare = Compare {
        set: &set,
        modified: &modified,
        no_inputs: &no_inputs,
        codes: &codes,
        on,
    };
    let mut done = 0usize;
    crate::exports::each_page(s, &region, as_of, None, &mut |page| {
        let a = evaluate_many(&set, &base, &page, on, &UnitInputs::new());
        let b = evaluate_many(&set, &modified, &page, on, &UnitInputs::new());
        for (((id, st), x), y) in page.iter().zip(&a).zip(&b) {
            if !set.applies(&st.fields.village_code, on.year()) {
                continue;
            }
            counts.add(&compare, *id, st, x, y);
        }
        done += page.len();
        progress(done);
        Ok(())
    })
    .await?;
    name_villages(s, &mut counts.villages, &mut counts.flips).await?;
    Ok(Simulation {
        set_id: set.def.id.clone(),
        version: set.def.version,
        name: set.def.name.clone(),
        purpose: set.def.purpose,
        overrides,
        region,
        as_of: on,
        before: counts.before,
        after: counts.after,
        villages: counts.villages.into_values().collect(),
        flips: counts.flips,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Fills in the village names ("乡镇 村") of the per-village counts and of the flips.
async fn name_villages(
    s: &Services,
    villages: &mut BTreeMap<String, SimVillage>,
    flips: &mut [Flip],
) -> Result<()> {
    let names = region_names(s, villages.keys()).await?;
    for (code, v) in villages.iter_mut() {
        v.code = code.clone();
        v.name = names.get(code).cloned().unwrap_or_default();
    }
    for f in flips {
        f.village_name = names.get(&f.village_code).cloned().unwrap_or_default();
    }
    Ok(())
}

/// A decision in Chinese, as the purpose words it.
fn outcome_zh(set_purpose: xiuhua_rules::Purpose, o: Outcome) -> &'static str {
    let (yes, no) = set_purpose.holds_zh();
    match o {
        Outcome::Pass => yes,
        Outcome::Fail => no,
        Outcome::Unknown => "无法判断",
    }
}

/// The simulation as a workbook: a summary by village and the list of households that change.
pub fn simulation_xlsx(sim: &Simulation) -> Result<Vec<u8>> {
    let purpose = sim.purpose;
    let (summary_cols, summary) = summary_sheet(sim);
    let (list_cols, list) = flips_sheet(sim, purpose);
    tables_workbook(&[
        ("按村汇总".to_string(), summary_cols, summary),
        ("变化名单".to_string(), list_cols, list),
    ])
    .map_err(|e| Error::Unexpected(anyhow::anyhow!("simulation workbook: {e}")))
}

/// The summary sheet: one row per village and a total.
fn summary_sheet(sim: &Simulation) -> (Vec<Column>, Vec<Vec<Out>>) {
    let n = |x: i64| Out::Number(x as f64);
    let summary_cols = vec![
        Column::new("村代码", ColKind::Text).width(14.0),
        Column::new("乡镇 村", ColKind::Text).width(22.0),
        Column::new("评估户数", ColKind::Number),
        Column::new("现行规则符合户数", ColKind::Number).width(16.0),
        Column::new("调整后符合户数", ColKind::Number).width(16.0),
        Column::new("新增", ColKind::Number),
        Column::new("退出", ColKind::Number),
        Column::new("结论变化户数", ColKind::Number).width(14.0),
    ];
    let mut summary: Vec<Vec<Out>> = sim
        .villages
        .iter()
        .map(|v| {
            vec![
                Out::Text(v.code.clone()),
                Out::Text(v.name.clone()),
                n(v.units),
                n(v.holds_before),
                n(v.holds_after),
                n(v.entered),
                n(v.left),
                n(v.changed),
            ]
        })
        .collect();
    summary.push(vec![
        Out::Text("合计".into()),
        Out::Empty,
        n(sim.before.units),
        n(sim.before.holds),
        n(sim.after.holds),
        n(sim.villages.iter().map(|v| v.entered).sum()),
        n(sim.villages.iter().map(|v| v.left).sum()),
        n(sim.flips.len() as i64),
    ]);
    (summary_cols, summary)
}

/// The list sheet: the households whose decision changes, with the reason.
fn flips_sheet(sim: &Simulation, purpose: xiuhua_rules::Purpose) -> (Vec<Column>, Vec<Vec<Out>>) {
    let list_cols = vec![
        Column::new("户编号", ColKind::Text).width(18.0),
        Column::new("户主姓名", ColKind::Text),
        Column::new("村代码", ColKind::Text).width(14.0),
        Column::new("乡镇 村", ColKind::Text).width(22.0),
        Column::new("现行规则", ColKind::Text).width(14.0),
        Column::new("调整后", ColKind::Text).width(14.0),
        Column::new("变化", ColKind::Text),
        Column::new("原因", ColKind::Text).width(48.0),
    ];
    let list: Vec<Vec<Out>> = sim
        .flips
        .iter()
        .map(|f| {
            let change = match (f.before, f.after) {
                (_, Outcome::Pass) => "新增",
                (Outcome::Pass, _) => "退出",
                _ => "变为无法判断",
            };
            vec![
                Out::Text(f.household_no.clone()),
                Out::Text(f.head_name.clone()),
                Out::Text(f.village_code.clone()),
                Out::Text(f.village_name.clone()),
                Out::Text(outcome_zh(purpose, f.before).into()),
                Out::Text(outcome_zh(purpose, f.after).into()),
                Out::Text(change.into()),
                Out::Text(f.reason.clone()),
            ]
        })
        .collect();
    (list_cols, list)
}

/// Parses a what-if override `name=value` (numbers, true/false, text).
pub fn parse_override(text: &str) -> Option<(String, ParamValue)> {
    let (k, v) = text.split_once('=')?;
    let v = v.trim();
    let value = if let Ok(i) = v.parse::<i64>() {
        ParamValue::Int(i)
    } else if let Ok(d) = v.parse::<f64>() {
        ParamValue::Double(d)
    } else if v == "true" || v == "false" {
        ParamValue::Bool(v == "true")
    } else {
        ParamValue::Str(v.to_string())
    };
    Some((k.trim().to_string(), value))
}
