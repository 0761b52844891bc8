//! Rule sets: the sets in force, one set (a version, or the one in force), loading a new
//! version, and what-if simulation.

use std::collections::BTreeMap;
use xiuhua_domain::message::msg;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xiuhua_app::rules;
use xiuhua_rules::{ParamValue, RuleSet};

use super::dto::RuleSetSummary;
use crate::AppState;
use crate::auth::{Auth, CsrfJson};
use crate::error::{ErrorEnvelope, WebError};
use crate::pages::parse_date;

/// Version query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A stored version (default: the one in force).
    pub version: Option<i64>,
}

/// The rule set `id` in `version` (default: the one in force).
pub(crate) fn find(
    state: &AppState,
    id: &str,
    version: Option<i64>,
) -> Result<std::sync::Arc<RuleSet>, xiuhua_app::Error> {
    state
        .services
        .rules()
        .get(id, version)
        .ok_or_else(|| xiuhua_app::Error::NotFound {
            what: format!("rule set {id}"),
        })
}

/// The rule sets in force.
#[utoipa::path(get, path = "/api/v1/rule-sets", responses((status = 200, body = Vec<RuleSetSummary>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_rule_sets(
    State(state): State<AppState>,
    _auth: Auth,
) -> Json<Vec<RuleSetSummary>> {
    Json(
        state
            .services
            .rules()
            .current()
            .iter()
            .map(|s| RuleSetSummary::from(&**s))
            .collect(),
    )
}

/// A rule set with its source text.
#[derive(Serialize, ToSchema)]
pub struct RuleSetDto {
    /// Summary.
    #[serde(flatten)]
    pub summary: RuleSetSummary,
    /// The TOML text of this version.
    pub source: String,
    /// Item codes in order.
    pub item_codes: Vec<String>,
}

/// One rule set (a given version, or the one in force).
#[utoipa::path(get, path = "/api/v1/rule-sets/{id}", params(("id" = String, Path, description = "Rule-set id"), VersionQuery),
    responses((status = 200, body = RuleSetDto), (status = 404, body = ErrorEnvelope)))]
pub async fn get_rule_set(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Json<RuleSetDto>, WebError> {
    let set = find(&state, &id, q.version).map_err(WebError::api)?;
    Ok(Json(RuleSetDto {
        summary: RuleSetSummary::from(&*set),
        source: set.source.clone(),
        item_codes: set.items.iter().map(|i| i.def.code.clone()).collect(),
    }))
}

/// A new rule-set version (TOML text).
#[derive(Deserialize, ToSchema)]
pub struct CreateRuleSetBody {
    /// The rule file.
    pub text: String,
}

/// Load a new rule-set version (county admin). A file with any error is refused with its item and
/// position (409, code `invalid_rule_set`).
#[utoipa::path(post, path = "/api/v1/rule-sets", request_body = CreateRuleSetBody,
    responses((status = 200, body = RuleSetSummary), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_rule_set(
    State(state): State<AppState>,
    auth: Auth,
    CsrfJson(b): CsrfJson<CreateRuleSetBody>,
) -> Result<Json<RuleSetSummary>, WebError> {
    let set = rules::load(&state.services, &auth.user, "api", &b.text)
        .await
        .map_err(WebError::api)?;
    Ok(Json(RuleSetSummary::from(&*set)))
}

/// A what-if request.
#[derive(Deserialize, ToSchema)]
pub struct SimulateBody {
    /// Changed parameters: name → number, text or bool.
    #[schema(value_type = Object)]
    pub overrides: BTreeMap<String, serde_json::Value>,
    /// Region code (default: your scope).
    pub region: Option<String>,
    /// ISO date (default: today).
    pub as_of: Option<String>,
}

/// Counts of a simulation.
#[derive(Serialize, ToSchema)]
pub struct SimulationDto {
    /// Rule-set id.
    pub set_id: String,
    /// Version.
    pub version: i64,
    /// Households evaluated.
    pub units: i64,
    /// Holding under the rules in force.
    pub holds_before: i64,
    /// Holding with the changes.
    pub holds_after: i64,
    /// Newly holding.
    pub entered: i64,
    /// No longer holding.
    pub left: i64,
    /// Villages with changes.
    pub villages: Vec<SimulatedVillageDto>,
    /// Households whose decision changes.
    pub households: Vec<SimulatedHouseholdDto>,
}

/// One village's changes in a simulation.
#[derive(Serialize, ToSchema)]
pub struct SimulatedVillageDto {
    /// 行政村 code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Households that would newly hold.
    pub entered: i64,
    /// Households that would no longer hold.
    pub left: i64,
}

/// A household whose decision a simulation changes.
#[derive(Serialize, ToSchema)]
pub struct SimulatedHouseholdDto {
    /// Household id.
    pub id: i64,
    /// 户编号.
    pub household_no: String,
    /// Decision under the rules in force.
    pub before: String,
    /// Decision with the changed parameters.
    pub after: String,
}

/// Evaluate a rule set with changed parameters against the registry; nothing is written.
#[utoipa::path(post, path = "/api/v1/rule-sets/{id}/simulate", params(("id" = String, Path, description = "Rule-set id")), request_body = SimulateBody,
    responses((status = 200, body = SimulationDto), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn simulate_rule_set(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(b): Json<SimulateBody>,
) -> Result<Json<SimulationDto>, WebError> {
    let mut ov = BTreeMap::new();
    for (k, v) in b.overrides {
        let pv = match v {
            serde_json::Value::Bool(x) => ParamValue::Bool(x),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => ParamValue::Int(i),
                None => ParamValue::Double(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => ParamValue::Str(s),
            _ => {
                return Err(WebError::api(xiuhua_app::Error::conflict(
                    "bad_override",
                    msg("bad_override").arg("k", k),
                )));
            }
        };
        ov.insert(k, pv);
    }
    let as_of = parse_date(b.as_of.as_deref())?;
    let sim = rules::simulate(
        &state.services,
        &auth.user,
        &id,
        b.region.as_deref(),
        as_of,
        ov,
        &|_| {},
    )
    .await
    .map_err(WebError::api)?;
    Ok(Json(SimulationDto {
        set_id: sim.set_id.clone(),
        version: sim.version,
        units: sim.before.units,
        holds_before: sim.before.holds,
        holds_after: sim.after.holds,
        entered: sim.villages.iter().map(|v| v.entered).sum(),
        left: sim.villages.iter().map(|v| v.left).sum(),
        villages: sim
            .villages
            .iter()
            .filter(|v| v.entered + v.left > 0)
            .map(|v| SimulatedVillageDto {
                code: v.code.clone(),
                name: v.name.clone(),
                entered: v.entered,
                left: v.left,
            })
            .collect(),
        households: sim
            .flips
            .iter()
            .map(|f| SimulatedHouseholdDto {
                id: f.household_id,
                household_no: f.household_no.clone(),
                before: f.before.as_str().into(),
                after: f.after.as_str().into(),
            })
            .collect(),
    }))
}
