//! Rule sets on the web: the list and load form, a rule set's page, what-if simulation (page and
//! Excel), a stored decision explained as it was made, and the JSON API under `/api/v1`.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiuhua_app::Role;
use xiuhua_app::rules::{self, Checklist, Simulation, VersionInfo};
use xiuhua_rules::{ParamValue, RuleSet};

use crate::AppState;
use crate::auth::{Auth, CsrfForm, CsrfJson};
use crate::error::{ErrorEnvelope, WebError};
use crate::pages::{Layout, parse_date, render};

/// Shown fields of a rule set in lists.
#[derive(Serialize, ToSchema)]
pub struct RuleSetSummary {
    /// Id.
    pub id: String,
    /// Version in force.
    pub version: i64,
    /// Chinese name.
    pub name: String,
    /// household | village | county
    pub level: String,
    /// exit | identification | monitoring | quality
    pub purpose: String,
    /// Region-code prefix ("" = national).
    pub region: String,
    /// First and last year.
    pub years: String,
    /// Number of items.
    pub items: usize,
    /// Some value or the whole set is not confirmed.
    pub unconfirmed: bool,
}

fn unconfirmed(s: &RuleSet) -> bool {
    s.def.unconfirmed
        || s.def.params.values().any(|p| p.unconfirmed)
        || s.items.iter().any(|i| i.def.unconfirmed)
}

fn years(s: &RuleSet) -> String {
    match s.def.years.as_slice() {
        [a] => format!("{a}—"),
        [a, b] => format!("{a}—{b}"),
        _ => String::new(),
    }
}

fn summary(s: &RuleSet) -> RuleSetSummary {
    RuleSetSummary {
        id: s.def.id.clone(),
        version: s.def.version,
        name: s.def.name.clone(),
        level: s.def.level.label_zh().into(),
        purpose: s.def.purpose.label_zh().into(),
        region: if s.def.region.is_empty() {
            "全国".into()
        } else {
            s.def.region.clone()
        },
        years: years(s),
        items: s.items.len(),
        unconfirmed: unconfirmed(s),
    }
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    l: Layout,
    sets: Vec<RuleSetSummary>,
    runs: Vec<rules::RunRow>,
    can_load: bool,
    message: String,
    error: bool,
}

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
    let page = RulesPage {
        l: Layout::new(auth, auth.t.s("rules")),
        sets: state
            .services
            .rules()
            .current()
            .iter()
            .map(|s| summary(s))
            .collect(),
        runs,
        can_load: matches!(auth.user.role, Role::Admin | Role::County),
        message,
        error,
    };
    render(&page, lang)
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
pub async fn load(
    State(state): State<AppState>,
    auth: Auth,
    CsrfForm(f): CsrfForm<LoadForm>,
) -> Result<Response, WebError> {
    match rules::load(&state.services, &auth.user, "网页提交", &f.text).await {
        Ok(set) => Ok(Redirect::to(&format!("/rules/{}", set.def.id)).into_response()),
        Err(xiuhua_app::Error::Conflict {
            message_zh,
            message_en,
            ..
        }) => {
            let msg = if auth.t.lang == crate::i18n::Lang::Zh {
                message_zh
            } else {
                message_en
            };
            Ok(rules_page(&state, &auth, msg, true).await?.into_response())
        }
        Err(e) => Err(WebError::page(e, auth.t.lang)),
    }
}

#[derive(Template)]
#[template(path = "rule_set.html")]
struct RuleSetPage {
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
    versions: Vec<VersionInfo>,
    example: String,
    can_run: bool,
}

fn show_param(v: &ParamValue) -> String {
    match v {
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Double(d) => d.to_string(),
        ParamValue::Str(s) => s.clone(),
    }
}

/// Version query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A stored version (default: the one in force).
    pub version: Option<i64>,
}

fn find(
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

/// A rule set: parameters, items and version history, with the simulate and run forms.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let set = find(&state, &id, q.version).map_err(|e| WebError::page(e, lang))?;
    let d = &set.def;
    let params = d
        .params
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                format!(
                    "{}{}",
                    p.label,
                    p.unit
                        .as_deref()
                        .map(|u| format!("（{u}）"))
                        .unwrap_or_default()
                ),
                p.value.as_ref().map(show_param).unwrap_or_default(),
                p.by_year
                    .iter()
                    .map(|(y, v)| format!("{y}: {}", show_param(v)))
                    .collect::<Vec<_>>()
                    .join("，"),
                p.unconfirmed,
            )
        })
        .collect();
    let items = set
        .items
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
        .collect();
    let example = d
        .params
        .iter()
        .find_map(|(n, p)| match p.value.as_ref()? {
            ParamValue::Int(i) => Some(format!("{n}={}", i + i / 6)),
            ParamValue::Double(x) => Some(format!("{n}={}", (x * 7.0 / 6.0).round())),
            _ => None,
        })
        .unwrap_or_default();
    let page = RuleSetPage {
        l: Layout::new(&auth, d.name.clone()),
        id: d.id.clone(),
        name: d.name.clone(),
        version: d.version,
        unconfirmed: unconfirmed(&set),
        level: d.level.label_zh().into(),
        level_is_household: d.level == xiuhua_rules::Level::Household,
        purpose: d.purpose.label_zh().into(),
        region: if d.region.is_empty() {
            "全国".into()
        } else {
            d.region.clone()
        },
        years: years(&set),
        source: d.source.clone(),
        note: d.note.clone(),
        params,
        items,
        versions: state.services.rules().history(&d.id),
        example,
        can_run: auth.user.role.can_write(),
    };
    render(&page, lang)
}

/// Simulation query: `set=line=7000,other=1`, region, as of.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
                format!("“{part}”应写成 参数=取值"),
                format!("'{part}' must be name=value"),
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
    let as_of = parse_date(q.as_of.as_deref()).map_err(|_| {
        xiuhua_app::Error::conflict(
            "bad_date",
            "日期格式应为 YYYY-MM-DD",
            "dates are YYYY-MM-DD",
        )
    })?;
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

#[derive(Template)]
#[template(path = "simulation.html")]
struct SimulationPage {
    l: Layout,
    sim: Simulation,
    changes: String,
    entered: i64,
    left: i64,
    villages: Vec<rules::SimVillage>,
    flips: Vec<rules::Flip>,
    xlsx_url: String,
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
pub async fn simulate_page(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<SimulateQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let sim = run_simulation(&state, &auth, &id, &q)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let changes = sim
        .overrides
        .iter()
        .map(|(k, v)| format!("{k} = {}", show_param(v)))
        .collect::<Vec<_>>()
        .join("，");
    let page = SimulationPage {
        l: Layout::new(&auth, auth.t.s("simulation")),
        changes,
        entered: sim.villages.iter().map(|v| v.entered).sum(),
        left: sim.villages.iter().map(|v| v.left).sum(),
        villages: sim
            .villages
            .iter()
            .filter(|v| v.entered + v.left > 0)
            .cloned()
            .collect(),
        flips: sim.flips.iter().take(500).cloned().collect(),
        xlsx_url: format!("/rules/{id}/simulate.xlsx?{}", query_string(&q)),
        sim,
    };
    render(&page, lang)
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
    let bytes =
        rules::simulation_xlsx(&state.services, &sim).map_err(|e| WebError::page(e, lang))?;
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
pub async fn run_store(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RunForm>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(f.as_of.as_deref())?;
    rules::run(
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
    Ok(Redirect::to("/rules").into_response())
}

#[derive(Template)]
#[template(path = "explain.html")]
struct ExplainPage {
    l: Layout,
    household_id: i64,
    run_id: i64,
    same: bool,
    run_meta: String,
    checklists: Vec<Checklist>,
}

/// A stored decision recomputed with the rule version and the data known when it was made.
pub async fn explain_stored(
    State(state): State<AppState>,
    auth: Auth,
    Path((run_id, household_id)): Path<(i64, i64)>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let (run, checklist, same) =
        rules::explain_stored(&state.services, &auth.user, run_id, household_id)
            .await
            .map_err(|e| WebError::page(e, lang))?;
    let page = ExplainPage {
        l: Layout::new(&auth, auth.t.s("explain_as_decided")),
        household_id,
        run_id,
        same,
        run_meta: format!(
            "{} v{} · {} · {}",
            run.rule_set, run.version, run.actor, run.started_at
        ),
        checklists: vec![checklist],
    };
    render(&page, lang)
}

// ---- JSON API ------------------------------------------------------------------------------

/// API routes for rule sets.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rule_sets, create_rule_set))
        .routes(routes!(get_rule_set))
        .routes(routes!(get_household_checklists))
        .routes(routes!(simulate_rule_set))
}

/// The rule sets in force.
#[utoipa::path(get, path = "/api/v1/rule-sets", responses((status = 200, body = Vec<RuleSetSummary>), (status = 401, body = ErrorEnvelope)))]
async fn list_rule_sets(State(state): State<AppState>, _auth: Auth) -> Json<Vec<RuleSetSummary>> {
    Json(
        state
            .services
            .rules()
            .current()
            .iter()
            .map(|s| summary(s))
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
async fn get_rule_set(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Json<RuleSetDto>, WebError> {
    let set = find(&state, &id, q.version).map_err(WebError::api)?;
    Ok(Json(RuleSetDto {
        summary: summary(&set),
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
async fn create_rule_set(
    State(state): State<AppState>,
    auth: Auth,
    CsrfJson(b): CsrfJson<CreateRuleSetBody>,
) -> Result<Json<RuleSetSummary>, WebError> {
    let set = rules::load(&state.services, &auth.user, "api", &b.text)
        .await
        .map_err(WebError::api)?;
    Ok(Json(summary(&set)))
}

/// Checklist query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChecklistQuery {
    /// Take the household as of this date (default: now).
    pub as_of: Option<String>,
}

/// One item's result.
#[derive(Serialize, ToSchema)]
pub struct ItemDto {
    /// Item code.
    pub code: String,
    /// Label.
    pub label: String,
    /// required | reference | veto | trigger | score
    pub kind: String,
    /// pass | fail | unknown
    pub outcome: String,
    /// Points (score items).
    pub points: Option<f64>,
    /// Explanation with the values used (Chinese).
    pub explain: String,
}

/// A rule set applied to one household.
#[derive(Serialize, ToSchema)]
pub struct ChecklistDto {
    /// Rule-set id.
    pub set_id: String,
    /// Version.
    pub version: i64,
    /// Name.
    pub name: String,
    /// pass (holds) | fail | unknown
    pub decision: String,
    /// Decision in Chinese.
    pub decision_zh: String,
    /// Total score.
    pub score: Option<f64>,
    /// ISO date of the data.
    pub as_of: String,
    /// Items.
    pub items: Vec<ItemDto>,
}

fn checklist_dto(c: Checklist) -> ChecklistDto {
    ChecklistDto {
        set_id: c.set_id,
        version: c.version,
        name: c.name,
        decision: c.decision.as_str().into(),
        decision_zh: c.decision_zh.into(),
        score: c.score,
        as_of: c.as_of.to_string(),
        items: c
            .items
            .into_iter()
            .map(|i| ItemDto {
                code: i.code,
                label: i.label,
                kind: i.kind.into(),
                outcome: i.outcome.as_str().into(),
                points: i.points,
                explain: i.explain,
            })
            .collect(),
    }
}

/// Every applicable household rule set evaluated for one household, with explanations.
#[utoipa::path(get, path = "/api/v1/households/{id}/checklists", params(("id" = i64, Path, description = "Household id"), ChecklistQuery),
    responses((status = 200, body = Vec<ChecklistDto>), (status = 404, body = ErrorEnvelope)))]
async fn get_household_checklists(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<ChecklistQuery>,
) -> Result<Json<Vec<ChecklistDto>>, WebError> {
    let as_of = parse_date(q.as_of.as_deref())?;
    let lists =
        rules::household_checklists(&state.services, &auth.user, id, as_of, &BTreeMap::new())
            .await
            .map_err(WebError::api)?;
    Ok(Json(lists.into_iter().map(checklist_dto).collect()))
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
async fn simulate_rule_set(
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
                    format!("参数 {k} 的取值应为数值、文字或真假"),
                    format!("parameter {k} needs a number, text or bool"),
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
