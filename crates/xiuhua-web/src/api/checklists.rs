//! Checklists: every applicable household rule set evaluated for one household.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xiuhua_app::rules::{self, Checklist};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ErrorEnvelope, WebError};
use crate::pages::parse_date;

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
pub async fn get_household_checklists(
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
