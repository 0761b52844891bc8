//! Rule-set pages: the list with recent runs and the load form, one rule set (parameters, items,
//! versions, the simulate and run forms), a what-if simulation, and a stored decision
//! recomputed as it was made.

use askama::Template;
use xiuhua_app::rules::{self, Checklist, Simulation, VersionInfo};
use xiuhua_rules::{Outcome, ParamValue, RuleSet};

use crate::i18n::{Lang, T};

use super::{Layout, local_time};
use crate::api::dto::{RuleSetSummary, rule_set_region, rule_set_years, unconfirmed};

/// The rule sets in force, recent runs and (for county admins) the load form.
#[derive(Template)]
#[template(path = "rules/list.html")]
pub struct RulesPage {
    l: Layout,
    sets: Vec<RuleSetSummary>,
    /// A run and when it started (local time).
    runs: Vec<(rules::RunRow, String)>,
    can_load: bool,
    message: String,
    error: bool,
}

impl RulesPage {
    /// The page with a message next to the load form (`error`: the file was refused).
    pub fn new(
        l: Layout,
        sets: Vec<RuleSetSummary>,
        runs: Vec<rules::RunRow>,
        can_load: bool,
        message: String,
        error: bool,
    ) -> RulesPage {
        RulesPage {
            l,
            sets,
            runs: runs
                .into_iter()
                .map(|r| {
                    let at = local_time(&r.started_at);
                    (r, at)
                })
                .collect(),
            can_load,
            message,
            error,
        }
    }
}

/// One rule set.
#[derive(Template)]
#[template(path = "rules/show.html")]
pub struct RuleSetPage {
    l: Layout,
    id: String,
    name: String,
    version: i64,
    unconfirmed: bool,
    level: String,
    level_is_household: bool,
    purpose: String,
    region: String,
    years: String,
    source: String,
    note: String,
    /// name, label (unit), default value, by year, unconfirmed
    params: Vec<(String, String, String, String, bool)>,
    /// code, label, kind, expression, unconfirmed
    items: Vec<(String, String, String, String, bool)>,
    /// version, loaded by, loaded at (local time), origin in words
    versions: Vec<(i64, String, String, &'static str)>,
    example: String,
    can_run: bool,
}

/// A parameter value as shown (plain, as a what-if override is written).
pub fn show_param(v: &ParamValue) -> String {
    match v {
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Double(d) => d.to_string(),
        ParamValue::Str(s) => s.clone(),
    }
}

/// How many decimals a value in `unit` is shown with (money to the 分, areas and lengths to
/// the hundredth, shares to the ten-thousandth); trailing zeros are dropped.
fn unit_decimals(unit: Option<&str>) -> usize {
    match unit {
        Some("比例") => 4,
        Some("岁" | "年" | "月" | "项") => 0,
        _ => 2,
    }
}

/// A number rounded to `decimals` with trailing zeros dropped: `8.399999999999999` → `8.4`,
/// `167.0` → `167`.
pub fn show_number(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A parameter value as shown on a rule page: numbers with their unit's precision, truth values
/// in words.
pub fn show_param_in(v: &ParamValue, unit: Option<&str>) -> String {
    match v {
        ParamValue::Bool(true) => "是".into(),
        ParamValue::Bool(false) => "否".into(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Double(d) => show_number(*d, unit_decimals(unit)),
        ParamValue::Str(s) => s.clone(),
    }
}

/// A parameter's label with its unit, unless the label already names it
/// (`人均纯收入不超过（元）` stays as it is, never `（元）（元）`).
pub fn label_with_unit(label: &str, unit: Option<&str>) -> String {
    match unit {
        Some(u) if !u.is_empty() && !label.contains(u) => format!("{label}（{u}）"),
        _ => label.to_string(),
    }
}

fn param_rows(set: &RuleSet) -> Vec<(String, String, String, String, bool)> {
    set.def
        .params
        .iter()
        .map(|(name, p)| {
            let unit = p.unit.as_deref();
            (
                name.clone(),
                label_with_unit(&p.label, unit),
                p.value
                    .as_ref()
                    .map(|v| show_param_in(v, unit))
                    .unwrap_or_default(),
                p.by_year
                    .iter()
                    .map(|(y, v)| format!("{y}: {}", show_param_in(v, unit)))
                    .collect::<Vec<_>>()
                    .join("，"),
                p.unconfirmed,
            )
        })
        .collect()
}

fn item_rows(set: &RuleSet) -> Vec<(String, String, String, String, bool)> {
    set.items
        .iter()
        .map(|i| {
            (
                i.def.code.clone(),
                i.def.label.clone(),
                i.def.kind.label_zh().to_string(),
                i.def.expr.trim().to_string(),
                i.def.unconfirmed,
            )
        })
        .collect()
}

/// A sample change for the simulate form: the first number parameter raised by a sixth.
fn example_change(set: &RuleSet) -> String {
    set.def
        .params
        .iter()
        .find_map(|(n, p)| match p.value.as_ref()? {
            ParamValue::Int(i) => Some(format!("{n}={}", i + i / 6)),
            ParamValue::Double(x) => Some(format!("{n}={}", (x * 7.0 / 6.0).round())),
            _ => None,
        })
        .unwrap_or_default()
}

/// Where a stored version came from, in words (stored as `shipped` / `admin`).
fn origin_words(origin: &str) -> &'static str {
    match origin {
        "shipped" => "随系统提供",
        "admin" => "管理员载入",
        _ => "其他",
    }
}

impl RuleSetPage {
    /// The page of `set` with its stored `versions`.
    pub fn new(l: Layout, set: &RuleSet, versions: Vec<VersionInfo>, can_run: bool) -> Self {
        let d = &set.def;
        RuleSetPage {
            l,
            id: d.id.clone(),
            name: d.name.clone(),
            version: d.version,
            unconfirmed: unconfirmed(set),
            level: d.level.label_zh().into(),
            level_is_household: d.level == xiuhua_rules::Level::Household,
            purpose: d.purpose.label_zh().into(),
            region: rule_set_region(set),
            years: rule_set_years(set),
            source: d.source.clone(),
            note: d.note.clone(),
            params: param_rows(set),
            items: item_rows(set),
            versions: versions
                .into_iter()
                .map(|v| {
                    let by = if v.loaded_by == "system" {
                        "系统".to_string()
                    } else {
                        v.loaded_by
                    };
                    (
                        v.version,
                        by,
                        local_time(&v.loaded_at),
                        origin_words(&v.origin),
                    )
                })
                .collect(),
            example: example_change(set),
            can_run,
        }
    }
}

/// A what-if simulation's results.
#[derive(Template)]
#[template(path = "rules/simulation.html")]
pub struct SimulationPage {
    l: Layout,
    sim: Simulation,
    changes: String,
    entered: i64,
    left: i64,
    /// The three outcomes' words (holds, does not hold, cannot be decided).
    outcomes: [String; 3],
    /// Households per outcome: under the rules in force, modified.
    before: [i64; 3],
    after: [i64; 3],
    villages: Vec<rules::SimVillage>,
    /// Changed households: (flip, outcome before, outcome after) in words.
    flips: Vec<(rules::Flip, String, String)>,
    xlsx_url: String,
}

/// A decision in the words of the set's purpose (达到标准 / 未达标准 / 无法判断 …).
fn outcome_words(t: &T, purpose: xiuhua_rules::Purpose, o: Outcome) -> &'static str {
    let (yes, no) = match t.lang {
        Lang::Zh => purpose.holds_zh(),
        Lang::En => ("holds", "does not hold"),
    };
    match o {
        Outcome::Pass => yes,
        Outcome::Fail => no,
        Outcome::Unknown => t.s("unknowns"),
    }
}

impl SimulationPage {
    /// The page of `sim`, linking to the same simulation as a workbook at `xlsx_url`.
    pub fn new(l: Layout, sim: Simulation, xlsx_url: String) -> SimulationPage {
        let t = l.t.clone();
        SimulationPage {
            l,
            changes: sim
                .overrides
                .iter()
                .map(|(k, v)| format!("{k} = {}", show_param(v)))
                .collect::<Vec<_>>()
                .join("，"),
            entered: sim.villages.iter().map(|v| v.entered).sum(),
            left: sim.villages.iter().map(|v| v.left).sum(),
            before: [sim.before.holds, sim.before.fails, sim.before.unknowns],
            after: [sim.after.holds, sim.after.fails, sim.after.unknowns],
            villages: sim
                .villages
                .iter()
                .filter(|v| v.changed > 0)
                .cloned()
                .collect(),
            flips: sim
                .flips
                .iter()
                .take(500)
                .map(|f| {
                    let word = |o| outcome_words(&t, sim.purpose, o).to_string();
                    (f.clone(), word(f.before), word(f.after))
                })
                .collect(),
            outcomes: [Outcome::Pass, Outcome::Fail, Outcome::Unknown]
                .map(|o| outcome_words(&t, sim.purpose, o).to_string()),
            xlsx_url,
            sim,
        }
    }
}

/// A stored decision recomputed as it was made.
#[derive(Template)]
#[template(path = "rules/explain.html")]
pub struct ExplainPage {
    l: Layout,
    household_id: i64,
    run_id: i64,
    same: bool,
    run_meta: String,
    checklists: Vec<Checklist>,
}

impl ExplainPage {
    /// The page of run `run_id`'s (`run`) decision about household `household_id`; `same`: the
    /// recomputation agrees with what was stored.
    pub fn new(
        l: Layout,
        run_id: i64,
        run: &rules::RunRow,
        household_id: i64,
        checklist: Checklist,
        same: bool,
    ) -> ExplainPage {
        ExplainPage {
            l,
            household_id,
            run_id,
            same,
            run_meta: format!(
                "{} v{} · {} · {}",
                run.rule_set,
                run.version,
                run.actor,
                local_time(&run.started_at)
            ),
            checklists: vec![checklist],
        }
    }
}

/// Households per page of a stored run.
pub const RUN_PER_PAGE: i64 = 50;

/// A stored run: its households with their outcome, filters, pager and export form.
#[derive(Template)]
#[template(path = "rules/run.html")]
pub struct RunPageView {
    l: Layout,
    run_id: i64,
    set_id: String,
    name: String,
    meta: String,
    total: i64,
    /// (value, words, selected)
    outcomes: Vec<(&'static str, String, bool)>,
    /// (code, label, selected)
    items: Vec<(String, String, bool)>,
    region: String,
    rows: Vec<rules::RunHousehold>,
    masked: bool,
    page: i64,
    pages: i64,
    prev_link: String,
    next_link: String,
    /// The filters, carried by the export form: (name, value).
    export_params: Vec<(&'static str, String)>,
}

impl RunPageView {
    /// The page of `p` for the filters `q` (page `page`); `masked`: the user sees masked numbers.
    pub fn new(
        l: Layout,
        p: rules::RunPage,
        q: &crate::pages::rules::RunListQuery,
        page: i64,
        masked: bool,
    ) -> RunPageView {
        let t = l.t.clone();
        let chosen = q.outcome.clone().unwrap_or_default();
        let item = q.item.clone().unwrap_or_default();
        let region = q.region.clone().unwrap_or_default();
        let (yes, no) = match t.lang {
            Lang::Zh => p.holds_zh,
            Lang::En => ("holds", "does not hold"),
        };
        let outcomes = vec![
            ("pass", yes.to_string(), chosen == "pass"),
            ("fail", no.to_string(), chosen == "fail"),
            ("unknown", t.s("unknowns").to_string(), chosen == "unknown"),
        ];
        let export_params: Vec<(&'static str, String)> = [
            ("outcome", chosen.clone()),
            ("item", item.clone()),
            ("region", region.clone()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        let base: String = export_params
            .iter()
            .map(|(k, v)| format!("{k}={}&", crate::pages::url_encode(v)))
            .collect();
        let pages = ((p.total + RUN_PER_PAGE - 1) / RUN_PER_PAGE).max(1);
        let link = |n: i64| format!("/rules/runs/{}?{base}page={n}", p.run.id);
        RunPageView {
            run_id: p.run.id,
            set_id: p.run.rule_set.clone(),
            name: p.name,
            meta: format!(
                "v{} · {} {} · {} {} · {} · {}",
                p.run.version,
                t.s("region"),
                p.run.region_code,
                t.s("as_of"),
                p.run.as_of,
                p.run.actor,
                local_time(&p.run.started_at)
            ),
            total: p.total,
            outcomes,
            items: p
                .items
                .into_iter()
                .map(|(code, label)| {
                    let sel = code == item;
                    (code, label, sel)
                })
                .collect(),
            region,
            rows: p.rows,
            masked,
            page,
            pages,
            prev_link: if page > 1 {
                link(page - 1)
            } else {
                String::new()
            },
            next_link: if page < pages {
                link(page + 1)
            } else {
                String::new()
            },
            export_params,
            l,
        }
    }
}
