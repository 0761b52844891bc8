//! The JSON API under `/api/v1`, documented by OpenAPI (`/api/openapi.json`), one module per
//! resource. Handlers are named `<verb>_<resource>`; those names are the operation ids. Query
//! and body types sit next to their handler; response shapes used by several operations (and
//! the household's wire form) are in [`dto`].

pub mod checklists;
pub mod departments;
pub mod dto;
pub mod households;
pub mod regions;
pub mod rules;
pub mod sessions;

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// Routes of the API with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sessions::create_session))
        .routes(routes!(sessions::get_me))
        .routes(routes!(sessions::unlock_user))
        .routes(routes!(households::list_households))
        .routes(routes!(
            households::get_household,
            households::update_household
        ))
        .routes(routes!(regions::get_region))
        .routes(routes!(departments::push_department_data))
        .routes(routes!(rules::list_rule_sets, rules::create_rule_set))
        .routes(routes!(rules::get_rule_set))
        .routes(routes!(checklists::get_household_checklists))
        .routes(routes!(rules::simulate_rule_set))
}

/// `as_of` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfParams {
    /// Show the state at the end of this date (YYYY-MM-DD); omit for now.
    pub as_of: Option<String>,
}
