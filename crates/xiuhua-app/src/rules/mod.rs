//! Policy as data in use: the rule sets in force (shipped ones plus versions a county admin
//! loaded), a household's checklists, batch runs over a region with stored results, and what-if
//! simulation of a modified rule set.
//!
//! The parts live in submodules: `book` (the [`RuleBook`], start-up and loading), `checklist`
//! (a household's checklists), `run` (batch runs and their storage), `stored` (stored results,
//! [`explain_stored`]) and `simulate` (what-if runs and their workbook). This module holds what
//! they share: decision tallies, per-unit inputs, rule-set lookup and region names.

mod book;
mod checklist;
mod results;
mod run;
mod simulate;
mod stored;

use std::collections::BTreeMap;
use std::sync::Arc;
use xiuhua_domain::message::msg;

use serde::Serialize;
use xiuhua_rules::{LoadError, Outcome, RuleSet, SetOutcome};

use crate::{Error, Result, Services};

pub(crate) use book::init;
pub use book::{RuleBook, VersionInfo, check, load};
pub use checklist::{Checklist, ItemView, checklist, checklists_of, household_checklists};
pub use results::{RunHousehold, RunPage, RunQuery, export_run_households, run_households};
pub use run::{ItemTally, RunSummary, evaluate_many, run};
pub use simulate::{Flip, SimVillage, Simulation, parse_override, simulate, simulation_xlsx};
pub use stored::{explain_stored, household_results, recent_runs, results_of};

/// A stored evaluation run (shown on the rule-set pages).
pub use xiuhua_db::rules::RunRow;

/// A rule set refused at load time, as the conflict the edges show.
fn load_error(e: LoadError) -> Error {
    Error::conflict(
        "invalid_rule_set",
        msg("invalid_rule_set")
            .arg("reason_zh", e.to_zh())
            .arg("reason_en", &e),
    )
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
    /// Counts one decision.
    fn add(&mut self, o: Outcome) {
        self.units += 1;
        match o {
            Outcome::Pass => self.holds += 1,
            Outcome::Fail => self.fails += 1,
            Outcome::Unknown => self.unknowns += 1,
        }
    }
}

/// Values of declared inputs per unit: 户编号 (households) or region code (villages, counties) →
/// input name → value.
pub type UnitInputs = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// A unit's inputs: its recorded facts (入户核查, as of the evaluation date), with the inputs
/// given by name (what-if, a facts file) taking precedence.
pub fn with_recorded<'a>(
    recorded: &'a BTreeMap<String, serde_json::Value>,
    given: Option<&'a BTreeMap<String, serde_json::Value>>,
) -> std::borrow::Cow<'a, BTreeMap<String, serde_json::Value>> {
    use std::borrow::Cow;
    match given {
        None => Cow::Borrowed(recorded),
        Some(g) if recorded.is_empty() => Cow::Borrowed(g),
        Some(g) => {
            let mut m = recorded.clone();
            m.extend(g.iter().map(|(k, v)| (k.clone(), v.clone())));
            Cow::Owned(m)
        }
    }
}

/// The stored form of item outcomes: one letter per item (P, F, U), in file order.
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

/// A rule set by id (and version), or not found.
fn find_set(s: &Services, id: &str, version: Option<i64>) -> Result<Arc<RuleSet>> {
    s.rules().get(id, version).ok_or_else(|| Error::NotFound {
        what: format!("rule set {id}"),
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
