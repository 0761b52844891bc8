//! Policy as data in use: the rule sets in force (shipped ones plus versions a county admin
//! loaded), a household's checklists, batch runs over a region with stored results, and what-if
//! simulation of a modified rule set.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use xiuhua_domain::HouseholdState;
use xiuhua_rules::{
    AreaCounts, Facts, Level, LoadError, Outcome, ParamValue, RuleSet, SetOutcome, Val,
};
use xiuhua_xlsx::write::{Column, Kind as ColKind, Out, tables_workbook};

use crate::{CurrentUser, Error, Result, Services};

/// A stored evaluation run (shown on the rule-set pages).
pub use xiuhua_db::rules::RunRow;

/// Every loaded rule-set version; the latest version of each id is the one in force.
#[derive(Default)]
pub struct RuleBook {
    versions: BTreeMap<(String, i64), Arc<RuleSet>>,
    origins: BTreeMap<(String, i64), VersionInfo>,
}

/// Who loaded a version, when, and from where.
#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    /// Version.
    pub version: i64,
    /// `shipped` or `admin`.
    pub origin: String,
    /// Who loaded it.
    pub loaded_by: String,
    /// RFC 3339 UTC.
    pub loaded_at: String,
}

impl RuleBook {
    /// The version in force of each rule set, ordered by level, purpose and id.
    pub fn current(&self) -> Vec<Arc<RuleSet>> {
        let mut latest: BTreeMap<&str, &Arc<RuleSet>> = BTreeMap::new();
        for ((id, _), set) in &self.versions {
            latest.insert(id.as_str(), set);
        }
        let mut out: Vec<Arc<RuleSet>> = latest.into_values().cloned().collect();
        out.sort_by_key(|s| {
            (
                s.def.level.as_str(),
                s.def.purpose.as_str(),
                s.def.id.clone(),
            )
        });
        out
    }

    /// A rule set: a given version, or the one in force.
    pub fn get(&self, id: &str, version: Option<i64>) -> Option<Arc<RuleSet>> {
        match version {
            Some(v) => self.versions.get(&(id.to_string(), v)).cloned(),
            None => self
                .versions
                .range((id.to_string(), i64::MIN)..=(id.to_string(), i64::MAX))
                .next_back()
                .map(|(_, s)| s.clone()),
        }
    }

    /// The history of a rule set, oldest first.
    pub fn history(&self, id: &str) -> Vec<VersionInfo> {
        self.origins
            .range((id.to_string(), i64::MIN)..=(id.to_string(), i64::MAX))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn load_error(e: LoadError) -> Error {
    Error::conflict("invalid_rule_set", e.to_zh(), e.to_string())
}

/// Stores the shipped rule sets (new versions only) and loads every stored version.
pub(crate) async fn init(s: &Services) -> Result<()> {
    let shipped = xiuhua_rules::shipped().map_err(|e| Error::Unexpected(anyhow::anyhow!("{e}")))?;
    let mut conn = s.db.acquire().await?;
    let now = xiuhua_db::events::format_ts(s.clock.now());
    for set in &shipped {
        xiuhua_db::rules::insert_rule_set(
            &mut conn,
            &xiuhua_db::rules::RuleSetRow {
                id: set.def.id.clone(),
                version: set.def.version,
                source: set.source.clone(),
                origin: "shipped".into(),
                loaded_by: "system".into(),
                loaded_at: now.clone(),
            },
        )
        .await?;
    }
    reload(s, &mut conn).await
}

async fn reload(s: &Services, conn: &mut xiuhua_db::AnyConnection) -> Result<()> {
    let mut book = RuleBook::default();
    for row in xiuhua_db::rules::list_rule_sets(conn).await? {
        match RuleSet::load(&format!("{} v{}", row.id, row.version), &row.source) {
            Ok(set) => {
                book.versions
                    .insert((row.id.clone(), row.version), Arc::new(set));
                book.origins.insert(
                    (row.id, row.version),
                    VersionInfo {
                        version: row.version,
                        origin: row.origin,
                        loaded_by: row.loaded_by,
                        loaded_at: row.loaded_at,
                    },
                );
            }
            // A stored version this build cannot compile stays on record, unused.
            Err(e) => tracing::warn!(
                "stored rule set {} v{} not loaded: {e}",
                row.id,
                row.version
            ),
        }
    }
    s.set_rules(book);
    Ok(())
}

/// Checks a rule-set file without storing it.
pub fn check(file: &str, text: &str) -> std::result::Result<RuleSet, LoadError> {
    RuleSet::load(file, text)
}

/// Loads a new version of a rule set (county admin or admin): it must check completely, apply
/// inside the user's region, and carry a version above the one in force.
pub async fn load(
    s: &Services,
    user: &CurrentUser,
    file: &str,
    text: &str,
) -> Result<Arc<RuleSet>> {
    user.require_county()?;
    let set = RuleSet::load(file, text).map_err(load_error)?;
    if !user.can_see(&set.def.region) {
        return Err(Error::Forbidden(format!(
            "rule set region {:?} lies outside the user's region",
            set.def.region
        )));
    }
    if let Some(cur) = s.rules().get(&set.def.id, None)
        && cur.def.version >= set.def.version
    {
        return Err(Error::conflict(
            "stale_rule_version",
            format!(
                "规则集 {} 现行版本为 {}，新文件的 version 必须更大",
                set.def.id, cur.def.version
            ),
            format!(
                "rule set {} is at version {}; the new file needs a higher version",
                set.def.id, cur.def.version
            ),
        ));
    }
    let mut conn = s.db.acquire().await?;
    xiuhua_db::rules::insert_rule_set(
        &mut conn,
        &xiuhua_db::rules::RuleSetRow {
            id: set.def.id.clone(),
            version: set.def.version,
            source: text.to_string(),
            origin: "admin".into(),
            loaded_by: user.username.clone(),
            loaded_at: xiuhua_db::events::format_ts(s.clock.now()),
        },
    )
    .await?;
    reload(s, &mut conn).await?;
    drop(conn);
    crate::audit::record(
        s,
        &user.username,
        crate::audit::AuditAction::LoadRules,
        &set.def.id,
        &format!("version {} from {file}", set.def.version),
        "",
    )
    .await?;
    s.rules()
        .get(&set.def.id, Some(set.def.version))
        .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("rule set vanished after loading")))
}

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
    /// Total score (scorecards).
    pub score: Option<f64>,
    /// The set or some of its values are not confirmed.
    pub unconfirmed: bool,
    /// The date the data was taken as of.
    pub as_of: NaiveDate,
    /// Items, in file order.
    pub items: Vec<ItemView>,
    /// How many items passed.
    pub passed: usize,
}

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
        score: out.score,
        unconfirmed: set.def.unconfirmed
            || set.def.params.values().any(|p| p.unconfirmed)
            || set.items.iter().any(|i| i.def.unconfirmed),
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
/// the year of `as_of`, default today). `inputs` gives values for declared inputs by name.
pub async fn household_checklists(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    as_of: Option<NaiveDate>,
    inputs: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<Checklist>> {
    let view = crate::registry::household(s, user, id, as_of).await?;
    Ok(checklists_of(s, &view, inputs))
}

/// The checklists of a household already read (and scope-checked) by `registry::household`:
/// pure evaluation, no database access.
pub fn checklists_of(
    s: &Services,
    view: &crate::registry::HouseholdView,
    inputs: &BTreeMap<String, serde_json::Value>,
) -> Vec<Checklist> {
    let on = view.as_of.unwrap_or_else(|| s.clock.today());
    let codes = s.codes();
    let facts = Facts::household(&view.state, on);
    let mut out = Vec::new();
    for set in s.rules().current() {
        if set.def.level != Level::Household
            || !set.applies(&view.state.fields.village_code, on.year())
        {
            continue;
        }
        let params = set.params_for(on.year(), &BTreeMap::new());
        let inp = set.inputs_from(inputs);
        let r = set.evaluate(&facts, &params, &inp);
        out.push(checklist(&set, &facts, &params, &inp, &r, on, &codes));
    }
    out
}

/// Tallies of decisions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Units evaluated.
    pub units: i64,
    /// The set holds.
    pub holds: i64,
    /// It does not.
    pub fails: i64,
    /// It cannot be decided.
    pub unknowns: i64,
}

impl Tally {
    fn add(&mut self, o: Outcome) {
        self.units += 1;
        match o {
            Outcome::Pass => self.holds += 1,
            Outcome::Fail => self.fails += 1,
            Outcome::Unknown => self.unknowns += 1,
        }
    }
}

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

/// Values of declared inputs per unit: 户编号 (households) or region code (villages, counties) →
/// input name → value.
pub type UnitInputs = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// Refuses inputs the rule set does not declare (a typo would otherwise be silently unknown).
fn check_inputs(set: &RuleSet, inputs: &UnitInputs) -> Result<()> {
    let mut unknown: Vec<&str> = inputs
        .values()
        .flat_map(|m| m.keys())
        .filter(|k| !set.input_types.iter().any(|(n, _)| n == *k))
        .map(String::as_str)
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    if unknown.is_empty() {
        return Ok(());
    }
    let declared: Vec<&str> = set.input_types.iter().map(|(n, _)| n.as_str()).collect();
    Err(Error::conflict(
        "unknown_inputs",
        format!(
            "规则集 {} 没有输入项 {}（已声明的输入项：{}）",
            set.def.id,
            unknown.join("、"),
            declared.join("、")
        ),
        format!(
            "rule set {} declares no input {} (declared: {})",
            set.def.id,
            unknown.join(", "),
            declared.join(", ")
        ),
    ))
}

/// Evaluates households in parallel on the machine's cores; results keep the input order.
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
                match inputs.get(&st.fields.household_no) {
                    Some(given) => set.evaluate(&facts, params, &set.inputs_from(given)),
                    None => set.evaluate(&facts, params, &no_inputs),
                }
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

fn empty_outcome() -> SetOutcome {
    SetOutcome {
        decision: Outcome::Unknown,
        score: None,
        items: Vec::new(),
        eligible: Outcome::Unknown,
    }
}

fn item_chars(o: &SetOutcome) -> String {
    o.items
        .iter()
        .map(|i| match i.outcome {
            Outcome::Pass => 'P',
            Outcome::Fail => 'F',
            Outcome::Unknown => 'U',
        })
        .collect()
}

fn find_set(s: &Services, id: &str, version: Option<i64>) -> Result<Arc<RuleSet>> {
    s.rules().get(id, version).ok_or_else(|| Error::NotFound {
        what: format!("rule set {id}"),
    })
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
    check_inputs(&set, inputs)?;
    let region = user.narrow(region)?;
    if store {
        user.require_write()?;
    }
    let on = as_of.unwrap_or_else(|| s.clock.today());
    let params = set.params_for(on.year(), &BTreeMap::new());
    let mut total = Tally::default();
    let mut by_unit: BTreeMap<String, Tally> = BTreeMap::new();
    let mut items: Vec<ItemTally> = set
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
    let mut rows: Vec<xiuhua_db::rules::ResultRow> = Vec::new();
    let mut count = |unit: String, key: &str, village: &str, o: &SetOutcome, rows: &mut Vec<_>| {
        total.add(o.decision);
        by_unit
            .entry(village.to_string())
            .or_default()
            .add(o.decision);
        for (t, i) in items.iter_mut().zip(&o.items) {
            match i.outcome {
                Outcome::Pass => t.pass += 1,
                Outcome::Fail => t.fail += 1,
                Outcome::Unknown => t.unknown += 1,
            }
        }
        if store {
            rows.push(xiuhua_db::rules::ResultRow {
                run_id: 0,
                unit,
                village_code: village.to_string(),
                decision: o.decision.as_str().into(),
                score: o.score,
                items: item_chars(o),
                inputs: inputs.get(key).and_then(|m| serde_json::to_string(m).ok()),
            });
        }
    };
    match set.def.level {
        Level::Household => {
            let mut done = 0usize;
            // A quota (规模控制) ranks within each county, so those outcomes wait for the end.
            // (household id, 户编号, village, outcome)
            let mut held: Vec<(String, String, String, SetOutcome)> = Vec::new();
            let quota = set.quota().is_some();
            crate::exports::each_page(s, &region, as_of, None, &mut |page| {
                let outs = evaluate_many(&set, &params, &page, on, inputs);
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
                        count(
                            id.to_string(),
                            &f.household_no,
                            &f.village_code,
                            &o,
                            &mut rows,
                        );
                    }
                }
                done += page.len();
                progress(done);
                Ok(())
            })
            .await?;
            let mut by_county: BTreeMap<String, Vec<(String, String, String, SetOutcome)>> =
                BTreeMap::new();
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
                    count(unit, &no, &village, &o, &mut rows);
                }
            }
        }
        level => {
            let none = BTreeMap::new();
            for (code, counts) in area_counts(s, &region, level, as_of).await? {
                if !set.applies(&code, on.year()) {
                    continue;
                }
                let facts = Facts::area(level, &code, on.year(), &counts);
                let given = set.inputs_from(inputs.get(&code).unwrap_or(&none));
                let o = set.evaluate(&facts, &params, &given);
                count(code.clone(), &code, &code, &o, &mut rows);
            }
        }
    }
    let names = region_names(s, by_unit.keys()).await?;
    let mut run_id = None;
    if store {
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
                region_code: region.clone(),
                as_of: on.to_string(),
                actor: user.username.clone(),
                started_at: started_at.clone(),
                finished_at: xiuhua_db::events::format_ts(s.clock.now()),
                units: total.units,
                holds: total.holds,
                fails: total.fails,
                unknowns: total.unknowns,
            },
        )
        .await?;
        xiuhua_db::rules::insert_results(&mut tx, std::mem::take(&mut rows)).await?;
        xiuhua_db::commit(tx).await?;
        run_id = Some(id);
    }
    Ok(RunSummary {
        run_id,
        set_id: set.def.id.clone(),
        version: set.def.version,
        name: set.def.name.clone(),
        region,
        as_of: on,
        total,
        by_village: by_unit
            .into_iter()
            .map(|(code, t)| {
                let name = names.get(&code).cloned().unwrap_or_default();
                (code, name, t)
            })
            .collect(),
        items,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Full names ("乡镇 村") of village codes, or the names of other region codes.
async fn region_names<'a>(
    s: &Services,
    codes: impl Iterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>> {
    let mut conn = s.db.acquire().await?;
    let mut out = BTreeMap::new();
    let mut cache: BTreeMap<String, String> = BTreeMap::new();
    for code in codes {
        let mut parts = Vec::new();
        let levels: &[usize] = if code.len() == 12 {
            &[9, 12]
        } else {
            &[code.len()]
        };
        for &l in levels {
            let Some(c) = code.get(..l) else { continue };
            if let Some(n) = cache.get(c) {
                parts.push(n.clone());
                continue;
            }
            let name = xiuhua_db::regions::find(&mut conn, c)
                .await?
                .map(|r| r.name)
                .unwrap_or_default();
            cache.insert(c.to_string(), name.clone());
            parts.push(name);
        }
        out.insert(code.clone(), parts.join(" "));
    }
    Ok(out)
}

/// Registry counts per village (or for the county) inside `region`, as of a date.
async fn area_counts(
    s: &Services,
    region: &str,
    level: Level,
    as_of: Option<NaiveDate>,
) -> Result<Vec<(String, AreaCounts)>> {
    let mut conn = s.db.acquire().await?;
    let county_len = 6;
    let counties: Vec<String> = if region.len() >= county_len {
        vec![region[..county_len].to_string()]
    } else {
        xiuhua_db::regions::list_level(
            &mut conn,
            xiuhua_domain::RegionLevel::County.as_i16(),
            region,
        )
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect()
    };
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
                let c = out.entry(key).or_default();
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
        }
    }
    Ok(out
        .into_iter()
        .filter(|(k, _)| k.starts_with(region) || region.starts_with(k.as_str()))
        .collect())
}

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
    let set = find_set(s, set_id, None)?;
    if set.def.level != Level::Household {
        return Err(Error::conflict(
            "unsupported_simulation",
            "目前只能模拟户级规则集",
            "only household rule sets can be simulated",
        ));
    }
    set.check_overrides(&overrides).map_err(load_error)?;
    let region = user.narrow(region)?;
    let on = as_of.unwrap_or_else(|| s.clock.today());
    let base = set.params_for(on.year(), &BTreeMap::new());
    let modified = set.params_for(on.year(), &overrides);
    let codes = s.codes();
    let mut before = Tally::default();
    let mut after = Tally::default();
    let mut villages: BTreeMap<String, SimVillage> = BTreeMap::new();
    let mut flips = Vec::new();
    let no_inputs = set.unknown_inputs();
    let mut done = 0usize;
    crate::exports::each_page(s, &region, as_of, None, &mut |page| {
        let a = evaluate_many(&set, &base, &page, on, &UnitInputs::new());
        let b = evaluate_many(&set, &modified, &page, on, &UnitInputs::new());
        for (((id, st), x), y) in page.iter().zip(&a).zip(&b) {
            if !set.applies(&st.fields.village_code, on.year()) {
                continue;
            }
            before.add(x.decision);
            after.add(y.decision);
            let v = villages.entry(st.fields.village_code.clone()).or_default();
            v.units += 1;
            v.holds_before += i64::from(x.decision == Outcome::Pass);
            v.holds_after += i64::from(y.decision == Outcome::Pass);
            let entered = x.decision != Outcome::Pass && y.decision == Outcome::Pass;
            let left = x.decision == Outcome::Pass && y.decision != Outcome::Pass;
            v.entered += i64::from(entered);
            v.left += i64::from(left);
            if x.decision != y.decision {
                let facts = Facts::household(st, on);
                let reason = x
                    .items
                    .iter()
                    .zip(&y.items)
                    .position(|(p, q)| p != q)
                    .map(|i| {
                        format!(
                            "{}：{}",
                            set.items[i].def.label,
                            set.explain(i, &facts, &modified, &no_inputs, Some(&codes))
                        )
                    })
                    .unwrap_or_default();
                flips.push(Flip {
                    household_id: *id,
                    household_no: st.fields.household_no.clone(),
                    head_name: st.head().map(|h| h.name.clone()).unwrap_or_default(),
                    village_code: st.fields.village_code.clone(),
                    village_name: String::new(),
                    before: x.decision,
                    after: y.decision,
                    reason,
                });
            }
        }
        done += page.len();
        progress(done);
        Ok(())
    })
    .await?;
    let names = region_names(s, villages.keys()).await?;
    for (code, v) in villages.iter_mut() {
        v.code = code.clone();
        v.name = names.get(code).cloned().unwrap_or_default();
    }
    for f in &mut flips {
        f.village_name = names.get(&f.village_code).cloned().unwrap_or_default();
    }
    Ok(Simulation {
        set_id: set.def.id.clone(),
        version: set.def.version,
        name: set.def.name.clone(),
        overrides,
        region,
        as_of: on,
        before,
        after,
        villages: villages.into_values().collect(),
        flips,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn outcome_zh(set_purpose: xiuhua_rules::Purpose, o: Outcome) -> &'static str {
    let (yes, no) = set_purpose.holds_zh();
    match o {
        Outcome::Pass => yes,
        Outcome::Fail => no,
        Outcome::Unknown => "无法判断",
    }
}

/// The simulation as a workbook: a summary by village and the list of households that change.
pub fn simulation_xlsx(s: &Services, sim: &Simulation) -> Result<Vec<u8>> {
    let purpose = find_set(s, &sim.set_id, Some(sim.version))?.def.purpose;
    let n = |x: i64| Out::Number(x as f64);
    let summary_cols = vec![
        Column::new("村代码", ColKind::Text).width(14.0),
        Column::new("乡镇 村", ColKind::Text).width(22.0),
        Column::new("评估户数", ColKind::Number),
        Column::new("现行规则符合户数", ColKind::Number).width(16.0),
        Column::new("调整后符合户数", ColKind::Number).width(16.0),
        Column::new("新增", ColKind::Number),
        Column::new("退出", ColKind::Number),
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
    ]);
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
    tables_workbook(&[
        ("按村汇总".to_string(), summary_cols, summary),
        ("变化名单".to_string(), list_cols, list),
    ])
    .map_err(|e| Error::Unexpected(anyhow::anyhow!("simulation workbook: {e}")))
}

/// A stored result re-explained exactly as it was decided: the stored rule-set version, the
/// registry as of the run's date *and as known when the run started* (later backdated corrections
/// do not change it).
pub async fn explain_stored(
    s: &Services,
    user: &CurrentUser,
    run_id: i64,
    household_id: i64,
) -> Result<(xiuhua_db::rules::RunRow, Checklist, bool)> {
    let not_found = || Error::NotFound {
        what: format!("result of run {run_id} for household {household_id}"),
    };
    let mut conn = s.db.acquire().await?;
    let run = xiuhua_db::rules::find_run(&mut conn, run_id)
        .await?
        .ok_or_else(not_found)?;
    let stored = xiuhua_db::rules::find_result(&mut conn, run_id, &household_id.to_string())
        .await?
        .ok_or_else(not_found)?;
    if !user.can_see(&stored.village_code) {
        return Err(not_found());
    }
    let set = find_set(s, &run.rule_set, Some(run.version))?;
    let on: NaiveDate = run.as_of.parse().map_err(|_| not_found())?;
    let events = xiuhua_db::events::list_for_household(&mut conn, household_id).await?;
    let known: Vec<_> = events
        .into_iter()
        .filter(|e| xiuhua_db::events::format_ts(e.recorded_at) <= run.started_at)
        .collect();
    let state = xiuhua_domain::event::state_as_of(&known, on)
        .map_err(|e| Error::Unexpected(e.into()))?
        .ok_or_else(not_found)?;
    let facts = Facts::household(&state, on);
    let params = set.params_for(on.year(), &BTreeMap::new());
    let given: BTreeMap<String, serde_json::Value> = stored
        .inputs
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let inputs = set.inputs_from(&given);
    let mut out = set.evaluate(&facts, &params, &inputs);
    let same = if set.quota().is_some() {
        // A quota decision depends on the whole run's ranking: the items must match, and the
        // decision shown is the stored one.
        out.decision = Outcome::parse(&stored.decision).unwrap_or(Outcome::Unknown);
        item_chars(&out) == stored.items
    } else {
        out.decision.as_str() == stored.decision && item_chars(&out) == stored.items
    };
    Ok((
        run,
        checklist(&set, &facts, &params, &inputs, &out, on, &s.codes()),
        same,
    ))
}

/// The stored results of one household, newest first (run, decision).
pub async fn household_results(
    s: &Services,
    user: &CurrentUser,
    household_id: i64,
) -> Result<Vec<(xiuhua_db::rules::RunRow, Outcome, Option<String>)>> {
    // Scope check through the household itself.
    let view = crate::registry::household(s, user, household_id, None).await?;
    results_of(s, &view).await
}

/// The stored results of a household already read (and scope-checked) by `registry::household`.
pub async fn results_of(
    s: &Services,
    view: &crate::registry::HouseholdView,
) -> Result<Vec<(xiuhua_db::rules::RunRow, Outcome, Option<String>)>> {
    let mut conn = s.db.acquire().await?;
    let rows = xiuhua_db::rules::results_for_unit(&mut conn, &view.id.to_string(), 20).await?;
    let book = s.rules();
    Ok(rows
        .into_iter()
        .map(|(run, r)| {
            let name = book
                .get(&run.rule_set, Some(run.version))
                .map(|s| s.def.name.clone());
            (
                run,
                Outcome::parse(&r.decision).unwrap_or(Outcome::Unknown),
                name,
            )
        })
        .collect())
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

/// The latest stored runs the user may see (runs over regions inside the user's scope).
pub async fn recent_runs(
    s: &Services,
    user: &CurrentUser,
    limit: i64,
) -> Result<Vec<xiuhua_db::rules::RunRow>> {
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::rules::recent_runs(&mut conn, limit * 5)
        .await?
        .into_iter()
        .filter(|r| user.can_see(&r.region_code))
        .take(limit as usize)
        .collect())
}
