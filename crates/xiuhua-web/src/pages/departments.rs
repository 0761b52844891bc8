//! The department batches received for the user's region (county staff).

use axum::extract::State;
use axum::response::Html;
use xiuhua_app::departments;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::views::admin::DepartmentsPage;
use crate::views::{Layout, render};

/// Department batches received for the user's region.
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let batches = departments::batches(&state.services, &auth.user, 200)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(&auth, auth.t.s("department_data"));
    render(&DepartmentsPage::new(l, batches), lang)
}
