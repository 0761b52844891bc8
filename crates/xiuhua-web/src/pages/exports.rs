//! Spreadsheet exports: the registry of a region as a ledger (xlsx or CSV), its statistics
//! tables, and the household list as filtered on the list page.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xiuhua_app::exports::{self, ExportFormat};

use super::{parse_date, url_encode};
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;

/// A file download with a UTF-8 file name.
fn download(bytes: Vec<u8>, content_type: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{}", url_encode(name)),
            ),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// An `.xlsx` download.
pub(crate) fn xlsx_response(bytes: Vec<u8>, name: &str) -> Response {
    download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        name,
    )
}

/// Query of the exports.
#[derive(Deserialize)]
pub struct ExportQuery {
    region: Option<String>,
    as_of: Option<String>,
    format: Option<String>,
    /// 用途: required for exports with full personal data.
    purpose: Option<String>,
}

/// GET /exports/registry: the registry of a region as a ledger (xlsx, or csv with `format=csv`).
pub async fn registry(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(q.as_of.as_deref())?;
    let csv = q.format.as_deref() == Some("csv");
    let path = std::env::temp_dir().join(format!("export-{}", xiuhua_app::auth::random_token()));
    let what = exports::RegistryExport {
        region: q.region.as_deref(),
        as_of,
        format: if csv {
            ExportFormat::Csv
        } else {
            ExportFormat::Xlsx
        },
        purpose: q.purpose.as_deref().unwrap_or(""),
    };
    exports::export_registry(&state.services, &auth.user, &what, &path, &|_| {})
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let bytes = std::fs::read(&path)
        .map_err(|e| WebError::page(xiuhua_app::Error::Unexpected(e.into()), lang))?;
    let _ = std::fs::remove_file(&path);
    let region = q.region.unwrap_or_default();
    let suffix = as_of.map(|d| format!("-{d}")).unwrap_or_default();
    Ok(if csv {
        let name = format!("台账-{region}{suffix}.csv");
        download(bytes, "text/csv; charset=utf-8", &name)
    } else {
        xlsx_response(bytes, &format!("台账-{region}{suffix}.xlsx"))
    })
}

/// GET /exports/statistics: the standard statistics tables of a region.
pub async fn statistics(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let as_of = parse_date(q.as_of.as_deref())?;
    let bytes = exports::export_statistics(&state.services, &auth.user, q.region.as_deref(), as_of)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    Ok(xlsx_response(
        bytes,
        &format!("统计表-{}.xlsx", q.region.unwrap_or_default()),
    ))
}

/// Query of the list export (the same filters as the household list).
#[derive(Deserialize)]
pub struct ListExportQuery {
    region: Option<String>,
    q: Option<String>,
    status: Option<String>,
    monitoring: Option<String>,
    /// 用途: required for exports with full personal data.
    purpose: Option<String>,
    /// `1`: full identity numbers (the list's toggle; only for users who may see them).
    full_ids: Option<String>,
}

/// GET /households/export: the household list, as filtered on the page, as `.xlsx`.
pub async fn households(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListExportQuery>,
) -> Result<Response, WebError> {
    let what = xiuhua_app::list_export::ListExport {
        region: q.region,
        text: super::search_text(q.q, false, auth.t.lang)?,
        status: q.status,
        monitoring: q.monitoring,
        purpose: q.purpose.unwrap_or_default(),
        full_ids: q.full_ids.as_deref() == Some("1"),
    };
    let bytes = xiuhua_app::list_export::export_list(&state.services, &auth.user, &what)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    Ok(xlsx_response(bytes, "农户名单.xlsx"))
}
