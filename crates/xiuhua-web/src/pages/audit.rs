//! The access log as a page (system and county administrators, county staff): filters by
//! account, household, action and days, paged newest first, and the filtered entries as xlsx
//! (an export the access log records).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, Response};
use serde::Deserialize;
use xiuhua_app::audit::{self, AuditQuery};

use super::{parse_date, url_encode};
use crate::AppState;
use crate::auth::{Auth, client_address};
use crate::error::WebError;
use crate::views::admin::AuditLogPage;
use crate::views::{Layout, render};

/// The page's filters as they come in the query.
#[derive(Deserialize, Default)]
pub struct AuditParams {
    user: Option<String>,
    household: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    page: Option<i64>,
}

impl AuditParams {
    fn query(&self) -> Result<AuditQuery, WebError> {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Ok(AuditQuery {
            username: text(&self.user),
            household: text(&self.household),
            action: text(&self.action),
            since: parse_date(self.since.as_deref())?,
            until: parse_date(self.until.as_deref())?,
            page: self.page.unwrap_or(0).max(0),
        })
    }

    /// The filters as a query string (without the page), for the page links and the export.
    fn filters(&self) -> String {
        [
            ("user", &self.user),
            ("household", &self.household),
            ("action", &self.action),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", url_encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// GET /admin/audit
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<AuditParams>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let q = p.query()?;
    let page = audit::page(&state.services, &auth.user, &q)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let l = Layout::new(&auth, auth.t.s("audit"));
    render(&AuditLogPage::new(l, &q, p.filters(), page), lang)
}

/// GET /admin/audit/export.xlsx: every entry the filters match.
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Query(p): Query<AuditParams>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let q = p.query()?;
    let bytes = audit::export(&state.services, &auth.user, &q, &client_address(&headers))
        .await
        .map_err(|e| WebError::page(e, lang))?;
    Ok(super::exports::xlsx_response(bytes, "访问日志.xlsx"))
}
