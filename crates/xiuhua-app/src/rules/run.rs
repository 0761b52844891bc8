//! Batch runs: a rule set applied to every household (or village, or the county) of a region as
//! of a date, evaluated in parallel, tallied per village and per item, and optionally stored
//! with the rule-set version and the as-of date.

use std::collections::BTreeMap;
use xiuhua_domain::message::msg;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use xiuhua_domain::HouseholdState;
use xiuhua_rules::{AreaCounts, Facts, Level, Outcome, ParamValues, RuleSet, SetOutcome};

use super::{Tally, UnitInputs, find_set, item_chars, region_names};
use crate::{CurrentUser, Error, Result, Services};

/// Per-item counts in a run.
#[derive(Clone, Debug, Serialize)]
pub struct ItemTally {
    /// Item code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Kind in Chinese.
    pub kind_zh: &'static str,
    /// Units where the expression was true.
    pub pass: i64,
    /// Units where it was false.
    pub fail: i64,
    /// Units where it was unknown.
    pub unknown: i64,
}

/// The result of a batch run.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Stored run id (when stored).
    pub run_id: Option<i64>,
    /// Rule-set id.
    pub set_id: String,
    /// Version.
    pub version: i64,
    /// Name.
    pub name: String,
    /// Region evaluated.
    pub region: String,
    /// Data as of.
    pub as_of: NaiveDate,
    /// Totals.
    pub total: Tally,
    /// Per village (households) or per unit (village/county sets): code, name, tally.
    pub by_village: Vec<(String, String, Tally)>,
    /// Per item.
    pub items: Vec<ItemTally>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Refuses inputs the rule set does not declare (a typo would otherwise be silently unknown).
fn check_inputs(s: &Services, set: &RuleSet, inputs: &UnitInputs) -> Result<()> {
    let mut unknown: Vec<&str> = inputs
        .values()
        .flat_map(|m| m.keys())
        .filter(|k| !set.input_types.iter().any(|(n, _)| n == *k))
        .map(String::as_str)
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    if unknown.is_empty() {
        // Every value of its declared type (a wrong one is refused naming the fact).
        for m in inputs.values() {
            crate::survey::check_facts(s, set.def.level, m)?;
        }
        return Ok(());
    }
    let declared: Vec<&str> = set.input_types.iter().map(|(n, _)| n.as_str()).collect();
    Err(Error::conflict(
        "unknown_inputs",
        msg("unknown_inputs")
            .arg("id", &set.def.id)
            .arg("unknown", unknown.join("、"))
            .arg("declared", declared.join("、"))
            .arg("unknown2", unknown.join(", "))
            .arg("declared2", declared.join(", ")),
    ))
}

/// Evaluates households in parallel on the machine's cores; results keep the input order. Each
/// household's inputs are its recorded facts (入户核查) with `inputs` (by 户编号) over them.
pub fn evaluate_many(
    set: &RuleSet,
    params: &xiuhua_rules::ParamValues,
    page: &[(i64, HouseholdState)],
    on: NaiveDate,
    inputs: &UnitInputs,
) -> Vec<SetOutcome> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let no_inputs = set.unknown_inputs();
    let eval = |chunk: &[(i64, HouseholdState)]| -> Vec<SetOutcome> {
        chunk
            .iter()
            .map(|(_, st)| {
                let facts = Facts::household(st, on);
                let given = inputs.get(&st.fields.household_no);
                if given.is_none() && st.fields.facts.is_empty() {
                    return set.evaluate(&facts, params, &no_inputs);
                }
                // The facts recorded by 入户核查, overridden by the inputs given.
                let merged = super::with_recorded(&st.fields.facts, given);
                set.evaluate(&facts, params, &set.inputs_from(&merged))
            })
            .collect()
    };
    if threads < 2 || page.len() < 64 {
        return eval(page);
    }
    let size = page.len().div_ceil(threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = page
            .chunks(size)
            .map(|c| sc.spawn(move || eval(c)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// A placeholder outcome, for one taken out of a list.
fn empty_outcome() -> SetOutcome {
    SetOutcome {
        decision: Outcome::Unknown,
        score: None,
        items: Vec::new(),
        eligible: Outcome::Unknown,
    }
}

/// What one run reads: the set, its parameters for the year, the region and date, the inputs.
struct Batch<'a> {
    s: &'a Services,
    set: &'a RuleSet,
    params: &'a ParamValues,
    region: &'a str,
    as_of: Option<NaiveDate>,
    on: NaiveDate,
    inputs: &'a UnitInputs,
}

/// The counts of a run so far, and the result rows to store.
struct Counter<'a> {
    store: bool,
    inputs: &'a UnitInputs,
    total: Tally,
    by_unit: BTreeMap<String, Tally>,
    items: Vec<ItemTally>,
    rows: Vec<xiuhua_db::rules::ResultRow>,
}

impl<'a> Counter<'a> {
    /// Nothing counted yet: one zero tally per item of `set`.
    fn new(set: &RuleSet, store: bool, inputs: &'a UnitInputs) -> Counter<'a> {
        let items: Vec<ItemTally> = set
            .items
            .iter()
            .map(|i| ItemTally {
                code: i.def.code.clone(),
                label: i.def.label.clone(),
                kind_zh: i.def.kind.label_zh(),
                pass: 0,
                fail: 0,
                unknown: 0,
            })
            .collect();
        Counter {
            store,
            inputs,
            total: Tally::default(),
            by_unit: BTreeMap::new(),
            items,
            rows: Vec::new(),
        }
    }

    /// Counts one unit's outcome under `village` (and keeps its result row when storing); `key`
    /// finds the unit's inputs.
    fn count(&mut self, unit: String, key: &str, village: &str, o: &SetOutcome) {
        self.total.add(o.decision);
        self.by_unit
            .entry(village.to_string())
            .or_default()
            .add(o.decision);
        for (t, i) in self.items.iter_mut().zip(&o.items) {
            match i.outcome {
                Outcome::Pass => t.pass += 1,
                Outcome::Fail => t.fail += 1,
                Outcome::Unknown => t.unknown += 1,
            }
        }
        if self.store {
            self.rows.push(xiuhua_db::rules::ResultRow {
                run_id: 0,
                unit,
                village_code: village.to_string(),
                decision: o.decision.as_str().into(),
                score: o.score,
                items: item_chars(o),
                inputs: self
                    .inputs
                    .get(key)
                    .and_then(|m| serde_json::to_string(m).ok()),
            });
        }
    }
}

/// Applies a rule set to every household (or village, or the county) of a region as of a date,
/// optionally storing the results (atomically, with the rule-set version and the as-of date).
#[allow(clippy::too_many_arguments)]
pub async fn run(
    s: &Services,
    user: &CurrentUser,
    set_id: &str,
    region: Option<&str>,
    as_of: Option<NaiveDate>,
    store: bool,
    inputs: &UnitInputs,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<RunSummary> {
    let started = std::time::Instant::now();
    let started_at = xiuhua_db::events::format_ts(s.clock.now());
    let set = find_set(s, set_id, None)?;
    check_inputs(s, &set, inputs)?;
    let region = user.narrow(region)?;
    if store {
        user.require_write()?;
    }
    let on = as_of.unwrap_or_else(|| s.clock.today());
    let params = set.params_for(on.year(), &BTreeMap::new());
    let batch = Batch {
        s,
        set: &set,
        params: &params,
        region: &region,
        as_of,
        on,
        inputs,
    };
    let mut counter = Counter::new(&set, store, inputs);
    match set.def.level {
        Level::Household => run_households(&batch, progress, &mut counter).await?,
        level => run_areas(&batch, level, &mut counter).await?,
    }
    let Counter {
        total,
        by_unit,
        items,
        rows,
        ..
    } = counter;
    let names = region_names(s, by_unit.keys()).await?;
    let mut run_id = None;
    if store {
        run_id = Some(store_run(&batch, user, &started_at, &total, rows).await?);
    }
    Ok(RunSummary {
        run_id,
        set_id: set.def.id.clone(),
        version: set.def.version,
        name: set.def.name.clone(),
        region,
        as_of: on,
        total,
        by_village: with_names(by_unit, &names),
        items,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Per-unit tallies as (code, name, tally), in code order.
fn with_names(
    by_unit: BTreeMap<String, Tally>,
    names: &BTreeMap<String, String>,
) -> Vec<(String, String, Tally)> {
    by_unit
        .into_iter()
        .map(|(code, t)| {
            let name = names.get(&code).cloned().unwrap_or_default();
            (code, name, t)
        })
        .collect()
}

/// A household evaluated and waiting for its county's quota ranking:
/// (household id, 户编号, village, outcome).
type Held = (String, String, String, SetOutcome);

/// Counts every household of the region, page by page; with a quota (规模控制) the outcomes
/// are ranked per county at the end.
async fn run_households(
    b: &Batch<'_>,
    progress: &(dyn Fn(usize) + Sync),
    counter: &mut Counter<'_>,
) -> Result<()> {
    let (set, on) = (b.set, b.on);
    let mut done = 0usize;
    // A quota (规模控制) ranks within each county, so those outcomes wait for the end.
    // (household id, 户编号, village, outcome)
    let mut held: Vec<Held> = Vec::new();
    let quota = set.quota().is_some();
    crate::exports::each_page(b.s, b.region, b.as_of, None, &mut |page| {
        let outs = evaluate_many(set, b.params, &page, on, b.inputs);
        for ((id, st), o) in page.iter().zip(outs) {
            let f = &st.fields;
            if !set.applies(&f.village_code, on.year()) {
                continue;
            }
            if quota {
                held.push((
                    id.to_string(),
                    f.household_no.clone(),
                    f.village_code.clone(),
                    o,
                ));
            } else {
                counter.count(id.to_string(), &f.household_no, &f.village_code, &o);
            }
        }
        done += page.len();
        progress(done);
        Ok(())
    })
    .await?;
    count_by_quota(set, held, counter);
    Ok(())
}

/// Ranks held households per county (the first six digits of the village code), applies the
/// quota and counts them.
fn count_by_quota(set: &RuleSet, held: Vec<Held>, counter: &mut Counter<'_>) {
    let mut by_county: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    for h in held {
        let county = h.2.get(..6).unwrap_or("").to_string();
        by_county.entry(county).or_default().push(h);
    }
    for (_, mut units) in by_county {
        let mut outs: Vec<SetOutcome> = units
            .iter_mut()
            .map(|u| std::mem::replace(&mut u.3, empty_outcome()))
            .collect();
        set.apply_quota(&mut outs);
        for ((unit, no, village, _), o) in units.into_iter().zip(outs) {
            counter.count(unit, &no, &village, &o);
        }
    }
}

/// Counts every village (or the county) of the region from the registry's counts.
async fn run_areas(b: &Batch<'_>, level: Level, counter: &mut Counter<'_>) -> Result<()> {
    let (set, on) = (b.set, b.on);
    let none = BTreeMap::new();
    for (code, counts) in area_counts(b.s, b.region, level, b.as_of).await? {
        if !set.applies(&code, on.year()) {
            continue;
        }
        let facts = Facts::area(level, &code, on.year(), &counts);
        let given = set.inputs_from(b.inputs.get(&code).unwrap_or(&none));
        let o = set.evaluate(&facts, b.params, &given);
        counter.count(code.clone(), &code, &code, &o);
    }
    Ok(())
}

/// Stores a run and its result rows in one transaction; returns the run id.
async fn store_run(
    b: &Batch<'_>,
    user: &CurrentUser,
    started_at: &str,
    total: &Tally,
    mut rows: Vec<xiuhua_db::rules::ResultRow>,
) -> Result<i64> {
    let (s, set) = (b.s, b.set);
    let mut tx = s.db.begin().await?;
    let id = xiuhua_db::ids::reserve(&mut tx, "rule_run", 1, 1).await?;
    for r in &mut rows {
        r.run_id = id;
    }
    xiuhua_db::rules::insert_run(
        &mut tx,
        &xiuhua_db::rules::RunRow {
            id,
            rule_set: set.def.id.clone(),
            version: set.def.version,
            region_code: b.region.to_string(),
            as_of: b.on.to_string(),
            actor: user.username.clone(),
            started_at: started_at.to_string(),
            finished_at: xiuhua_db::events::format_ts(s.clock.now()),
            units: total.units,
            holds: total.holds,
            fails: total.fails,
            unknowns: total.unknowns,
        },
    )
    .await?;
    xiuhua_db::rules::insert_results(&mut tx, rows).await?;
    xiuhua_db::commit(tx).await?;
    Ok(id)
}

/// The county codes a region covers: its own county, or every county inside it.
async fn counties_in(conn: &mut xiuhua_db::AnyConnection, region: &str) -> Result<Vec<String>> {
    let county_len = 6;
    Ok(if region.len() >= county_len {
        vec![region[..county_len].to_string()]
    } else {
        xiuhua_db::regions::list_level(conn, xiuhua_domain::RegionLevel::County.as_i16(), region)
            .await?
            .into_iter()
            .map(|r| r.code)
            .collect()
    })
}

/// Registry counts per village (or for the county) inside `region`, as of a date.
async fn area_counts(
    s: &Services,
    region: &str,
    level: Level,
    as_of: Option<NaiveDate>,
) -> Result<Vec<(String, AreaCounts)>> {
    let mut conn = s.db.acquire().await?;
    let counties = counties_in(&mut conn, region).await?;
    let mut out: BTreeMap<String, AreaCounts> = BTreeMap::new();
    for county in counties {
        // Village rows of the county (child level of a township is the village).
        let townships = xiuhua_db::regions::children(&mut conn, &county).await?;
        for t in townships {
            let rows = match as_of {
                None => xiuhua_db::households::counts(&mut conn, &t.code).await?,
                Some(d) => {
                    xiuhua_db::households::counts_as_of(&mut conn, &t.code, &d.to_string()).await?
                }
            };
            for r in rows {
                if !r.child_code.starts_with(region) && !region.starts_with(&r.child_code) {
                    continue;
                }
                let key = match level {
                    Level::Village => r.child_code.clone(),
                    _ => county.clone(),
                };
                add_counts(out.entry(key).or_default(), &r);
            }
        }
    }
    Ok(out
        .into_iter()
        .filter(|(k, _)| k.starts_with(region) || region.starts_with(k.as_str()))
        .collect())
}

/// Adds one count row (a status and monitoring state in one child region) to `c`.
fn add_counts(c: &mut AreaCounts, r: &xiuhua_db::households::CountRow) {
    c.households += r.households;
    c.people += r.people;
    match r.status.as_str() {
        "poor" => {
            c.poor_households += r.households;
            c.poor_people += r.people;
        }
        "lifted" => {
            c.lifted_households += r.households;
            c.lifted_people += r.people;
        }
        _ => {}
    }
    if r.monitoring == "monitored" {
        c.monitored_households += r.households;
        c.monitored_people += r.people;
    }
}
