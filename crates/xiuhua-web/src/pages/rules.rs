//! Rule-set pages: the list and load form, a rule set, what-if simulation (page and Excel), a
//! stored run, and a stored decision explained as it was made.

use std::collections::BTreeMap;
use xiuhua_domain::message::msg;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use xiuhua_app::Role;
use xiuhua_app::rules::{self, Simulation};
use xiuhua_rules::ParamValue;

use super::parse_date;
use crate::AppState;
use crate::api::dto::RuleSetSummary;
use crate::api::rules::{VersionQuery, find};
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::views::rules::{
    ExplainPage, RUN_PER_PAGE, RuleSetPage, RulesPage, RunPageView, SimulationPage,
};
use crate::views::{Layout, render};

async fn rules_page(
    state: &AppState,
    auth: &Auth,
    message: String,
    error: bool,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let runs = rules::recent_runs(&state.services, &auth.user, 20)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let sets = state
        .services
        .rules()
        .current()
        .iter()
        .map(|s| RuleSetSummary::from(&**s))
        .collect();
    let can_load = matches!(auth.user.role, Role::Admin | Role::County);
    let l = Layout::new(auth, auth.t.s("rules"));
    render(
        &RulesPage::new(l, sets, runs, can_load, message, error),
        lang,
    )
}

/// The rule sets in force, recent runs, and (for county admins) the load form.
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Html<String>, WebError> {
    rules_page(&state, &auth, String::new(), false).await
}

/// The load form.
#[derive(Deserialize)]
pub struct LoadForm {
    text: String,
}

/// Loads a new rule-set version from the form; errors are shown on the page (file, item, position).
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    CsrfForm(f): CsrfForm<LoadForm>,
) -> Result<Response, WebError> {
    match rules::load(&state.services, &auth.user, "网页提交", &f.text).await {
        Ok(set) => Ok(Redirect::to(&format!("/rules/{}", set.def.id)).into_response()),
        Err(xiuhua_app::Error::Conflict { message, .. }) => {
            let msg = message.render(auth.t.lang.messages());
            Ok(rules_page(&state, &auth, msg, true).await?.into_response())
        }
        Err(e) => Err(WebError::page(e, auth.t.lang)),
    }
}

/// A rule set: parameters, items and version history, with the simulate and run forms.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let set = find(&state, &id, q.version).map_err(|e| WebError::page(e, lang))?;
    let versions = state.services.rules().history(&set.def.id);
    let l = Layout::new(&auth, set.def.name.clone());
    let page = RuleSetPage::new(l, &set, versions, auth.user.role.can_write());
    render(&page, lang)
}

/// Simulation query: `set=line=7000,other=1`, region, as of.
#[derive(Deserialize)]
pub struct SimulateQuery {
    /// Changed parameters, `name=value` separated by commas.
    pub set: Option<String>,
    /// Region code (default: your scope).
    pub region: Option<String>,
    /// Data as of this date (default: today).
    pub as_of: Option<String>,
}

fn overrides(text: Option<&str>) -> Result<BTreeMap<String, ParamValue>, xiuhua_app::Error> {
    let mut out = BTreeMap::new();
    for part in text
        .unwrap_or("")
        .split([',', '，', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (k, v) = rules::parse_override(part).ok_or_else(|| {
            xiuhua_app::Error::conflict(
                "bad_override",
                msg("bad_override_part_must_name_value").arg("part", part),
            )
        })?;
        out.insert(k, v);
    }
    Ok(out)
}

async fn run_simulation(
    state: &AppState,
    auth: &Auth,
    id: &str,
    q: &SimulateQuery,
) -> Result<Simulation, xiuhua_app::Error> {
    let as_of = parse_date(q.as_of.as_deref())
        .map_err(|_| xiuhua_app::Error::conflict("bad_date", msg("bad_date")))?;
    rules::simulate(
        &state.services,
        &auth.user,
        id,
        q.region.as_deref().filter(|r| !r.trim().is_empty()),
        as_of,
        overrides(q.set.as_deref())?,
        &|_| {},
    )
    .await
}

fn query_string(q: &SimulateQuery) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "set={}&region={}&as_of={}",
        enc(q.set.as_deref().unwrap_or("")),
        enc(q.region.as_deref().unwrap_or("")),
        enc(q.as_of.as_deref().unwrap_or(""))
    )
}

/// What-if results: counts by village and the households whose decision changes.
pub async fn simulate(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<SimulateQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let sim = run_simulation(&state, &auth, &id, &q)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let xlsx_url = format!("/rules/{id}/simulate.xlsx?{}", query_string(&q));
    let l = Layout::new(&auth, auth.t.s("simulation"));
    render(&SimulationPage::new(l, sim, xlsx_url), lang)
}

/// The simulation as an Excel workbook (village summary + list of changed households).
pub async fn simulate_xlsx(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<SimulateQuery>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let sim = run_simulation(&state, &auth, &id, &q)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let bytes = rules::simulation_xlsx(&sim).map_err(|e| WebError::page(e, lang))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"simulation-{id}.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The run form.
#[derive(Deserialize)]
pub struct RunForm {
    region: Option<String>,
    as_of: Option<String>,
}

/// Evaluates a rule set over a region and stores the results.
pub async fn create_run(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RunForm>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(f.as_of.as_deref())?;
    let summary = rules::run(
        &state.services,
        &auth.user,
        &id,
        f.region.as_deref().filter(|r| !r.trim().is_empty()),
        as_of,
        true,
        &rules::UnitInputs::new(),
        &|_| {},
    )
    .await
    .map_err(|e| WebError::page(e, lang))?;
    match summary.run_id {
        Some(run) => Ok(Redirect::to(&format!("/rules/runs/{run}")).into_response()),
        None => Ok(Redirect::to("/rules").into_response()),
    }
}

/// Filters of a stored run's household list (and of its export).
#[derive(Deserialize, Default)]
pub struct RunListQuery {
    /// `pass`, `fail` or `unknown`: of the decision, or of `item`.
    pub outcome: Option<String>,
    /// An item's code.
    pub item: Option<String>,
    /// A region code inside the run's region.
    pub region: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// 用途 (export with full identity numbers).
    pub purpose: Option<String>,
}

impl RunListQuery {
    fn to_query(&self, per_page: i64) -> rules::RunQuery {
        rules::RunQuery {
            outcome: self
                .outcome
                .as_deref()
                .and_then(xiuhua_rules::Outcome::parse),
            item: self.item.clone().filter(|i| !i.is_empty()),
            region: self.region.clone().filter(|r| !r.trim().is_empty()),
            page: self.page.unwrap_or(1).max(1),
            per_page,
        }
    }
}

/// A stored run: its households with their outcome, filtered (outcome, item, region) and paged.
pub async fn show_run(
    State(state): State<AppState>,
    auth: Auth,
    Path(run_id): Path<i64>,
    Query(q): Query<RunListQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let query = q.to_query(RUN_PER_PAGE);
    let page = rules::run_households(&state.services, &auth.user, run_id, &query)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(&auth, format!("{} #{run_id}", auth.t.s("stored_run")));
    let masked = !auth.user.role.sees_personal_data();
    render(&RunPageView::new(l, page, &q, query.page, masked), lang)
}

/// A stored run's households (as filtered on its page) as an `.xlsx` workbook.
pub async fn export_run(
    State(state): State<AppState>,
    auth: Auth,
    Path(run_id): Path<i64>,
    Query(q): Query<RunListQuery>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let bytes = rules::export_run_households(
        &state.services,
        &auth.user,
        run_id,
        &q.to_query(500),
        q.purpose.as_deref().unwrap_or(""),
    )
    .await
    .map_err(|e| WebError::page(e, lang))?;
    Ok(super::exports::xlsx_response(
        bytes,
        &format!("评估结果-{run_id}.xlsx"),
    ))
}

/// A stored decision recomputed with the rule version and the data known when it was made.
pub async fn explain(
    State(state): State<AppState>,
    auth: Auth,
    Path((run_id, household_id)): Path<(i64, i64)>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let (run, checklist, same) =
        rules::explain_stored(&state.services, &auth.user, run_id, household_id)
            .await
            .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(&auth, auth.t.s("explain_as_decided"));
    let page = ExplainPage::new(l, run_id, &run, household_id, checklist, same);
    render(&page, lang)
}
