//! Stored results: a stored decision re-explained exactly as it was decided, a household's
//! stored results, and the latest runs a user may see.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use xiuhua_rules::{Facts, Outcome};

use super::{Checklist, checklist, find_set, item_chars};
use crate::{CurrentUser, Error, Result, Services};

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
    // The facts recorded as of the run's date and known when it started, with the inputs the
    // run was given over them.
    let inputs = set.inputs_from(&super::with_recorded(&state.fields.facts, Some(&given)));
    let mut out = set.evaluate(&facts, &params, &inputs);
    let same = if set.quota().is_some() {
        // A quota decision depends on the whole run's ranking: the items must match, and the
        // decision shown is the stored one.
        out.decision = Outcome::parse(&stored.decision).unwrap_or(Outcome::Unknown);
        item_chars(&out) == stored.items
    } else {
        out.decision.as_str() == stored.decision && item_chars(&out) == stored.items
    };
    // Explanations quote values: for a user who may not see personal data, those of the
    // masked state (the decision above was taken on the real one).
    let masked = (!user.role.sees_personal_data()).then(|| {
        let mut m = state.clone();
        m.mask_personal_data();
        m
    });
    let shown = masked.as_ref().map(|m| Facts::household(m, on));
    let explained = shown.as_ref().unwrap_or(&facts);
    Ok((
        run,
        checklist(&set, explained, &params, &inputs, &out, on, &s.codes()),
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
