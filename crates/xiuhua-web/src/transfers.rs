//! Spreadsheet pages: the ledger upload (import with a dry-run preview, every problem listed,
//! an error workbook to download) and the exports (registry ledger, statistics tables, lists).

use std::collections::HashMap;

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use xiuhua_app::exports::{self, ExportFormat};
use xiuhua_app::imports::ImportOptions;
use xiuhua_app::jobs::{ImportOutcome, JobState};

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::pages::{Layout, parse_date};

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    l: Layout,
    counties: Vec<(String, String)>,
    today: String,
    report: Option<ReportView>,
    error: String,
    job: String,
}

struct ReportView {
    dry_run: bool,
    ok: bool,
    file: String,
    rows: usize,
    households: usize,
    created: usize,
    changed: usize,
    unchanged: usize,
    events: usize,
    sha256: String,
    unknown: Vec<String>,
    skipped: Vec<String>,
    problems: Vec<(String, usize, String, String, String)>,
    more: usize,
    errors_link: String,
}

async fn counties(state: &AppState, auth: &Auth) -> Result<Vec<(String, String)>, WebError> {
    let roots = xiuhua_app::regions::roots(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    Ok(roots
        .into_iter()
        .filter(|r| r.code.len() >= 6)
        .map(|r| (r.code[..6].to_string(), r.name))
        .collect())
}

impl ImportPage {
    async fn empty(state: &AppState, auth: &Auth) -> Result<ImportPage, WebError> {
        Ok(ImportPage {
            counties: counties(state, auth).await?,
            today: state.services.clock.today().to_string(),
            l: Layout::new(auth, "台账导入"),
            report: None,
            error: String::new(),
            job: String::new(),
        })
    }
}

/// GET /imports
pub async fn import_form(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Html<String>, WebError> {
    let page = ImportPage::empty(&state, &auth).await?;
    render(&page, &auth)
}

fn render(t: &impl Template, auth: &Auth) -> Result<Html<String>, WebError> {
    t.render().map(Html).map_err(|e| {
        WebError::page(
            xiuhua_app::Error::Unexpected(anyhow::anyhow!("template: {e}")),
            auth.t.lang,
        )
    })
}

/// POST /imports (multipart: csrf, file, county, effective_date, dry_run)
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    mut form: Multipart,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file_name = String::new();
    let dir = tempfile_dir();
    let path = dir.join(format!("upload-{}", xiuhua_app::auth::random_token()));
    let mut got_file = false;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "mapping" {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| WebError::BadRequest(e.to_string()))?;
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        } else if name == "file" {
            file_name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| WebError::BadRequest(e.to_string()))?;
            std::fs::write(&path, &bytes)
                .map_err(|e| WebError::page(xiuhua_app::Error::Unexpected(e.into()), lang))?;
            got_file = true;
        } else {
            fields.insert(
                name,
                field
                    .text()
                    .await
                    .map_err(|e| WebError::BadRequest(e.to_string()))?,
            );
        }
    }
    auth.check_csrf(fields.get("csrf").map(String::as_str))?;
    let mut page = ImportPage::empty(&state, &auth).await?;
    if !got_file {
        page.error = "请选择要导入的文件".into();
        return render(&page, &auth);
    }
    let mapping = match fields.get("mapping").filter(|m| !m.trim().is_empty()) {
        Some(text) => match xiuhua_xlsx::columns::parse_mapping(text) {
            Ok(m) => m,
            Err(e) => {
                page.error = format!("列对照文件有误：{e}");
                return render(&page, &auth);
            }
        },
        None => Vec::new(),
    };
    let effective_date = parse_date(fields.get("effective_date").map(String::as_str))?
        .unwrap_or_else(|| state.services.clock.today());
    let opts = ImportOptions {
        county: fields.get("county").cloned().unwrap_or_default(),
        effective_date,
        dry_run: fields.get("dry_run").is_some_and(|v| v == "1" || v == "on"),
        mapping,
        file_name: file_name.clone(),
        reason: fields
            .get("reason")
            .cloned()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "台账导入".into()),
    };
    // The import runs in the background as a stored job; the page polls its progress and then
    // shows the report.
    let id = xiuhua_app::jobs::start_import(&state.services, &auth.user, path, opts)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    page.job = id.to_string();
    render(&page, &auth)
}

/// Progress of an import.
#[derive(serde::Serialize)]
pub struct JobStatus {
    /// Rows read so far.
    rows: u64,
    /// Whether the job has ended (the report page then shows how).
    done: bool,
    /// `queued`, `running`, `finished` or `failed`.
    state: &'static str,
}

/// A job id from the path; anything else is not found.
fn job_id(id: &str) -> Result<i64, xiuhua_app::Error> {
    id.parse().map_err(|_| xiuhua_app::Error::NotFound {
        what: "import".into(),
    })
}

/// GET /imports/jobs/{id}: progress as JSON (rows read so far, finished or not).
pub async fn job_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<JobStatus>, WebError> {
    let id = job_id(&id).map_err(WebError::api)?;
    let job = xiuhua_app::jobs::get(&state.services, &auth.user, id)
        .await
        .map_err(WebError::api)?;
    Ok(axum::Json(JobStatus {
        rows: job.done,
        done: job.state.is_done(),
        state: job.state.as_str(),
    }))
}

/// GET /imports/jobs/{id}/report: the report of a finished import (or the progress page).
pub async fn job_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let id = job_id(&id).map_err(|e| WebError::page(e, lang))?;
    let job = xiuhua_app::jobs::get(&state.services, &auth.user, id)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let mut page = ImportPage::empty(&state, &auth).await?;
    match job.state {
        JobState::Queued | JobState::Running => page.job = id.to_string(),
        JobState::Finished => {
            let outcome: ImportOutcome = job
                .result
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            page.report = Some(report_view(id, outcome));
        }
        JobState::Failed => page.error = job.failure.unwrap_or_default(),
    }
    render(&page, &auth)
}

fn report_view(job: i64, r: ImportOutcome) -> ReportView {
    ReportView {
        dry_run: r.dry_run,
        ok: r.problem_count == 0,
        file: r.file_name,
        rows: r.rows,
        households: r.households,
        created: r.created,
        changed: r.changed,
        unchanged: r.unchanged,
        events: r.events,
        sha256: r.sha256,
        unknown: r
            .unknown_columns
            .iter()
            .map(|(s, c, n)| format!("{s} 第{c}列“{n}”"))
            .collect(),
        skipped: r.skipped_sheets,
        more: r.problem_count.saturating_sub(r.problems.len()),
        problems: r.problems,
        errors_link: if r.error_workbook.is_some() {
            format!("/imports/errors/{job}")
        } else {
            String::new()
        },
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    std::env::temp_dir()
}

fn xlsx_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    crate::pages::url_encode(name)
                ),
            ),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// GET /imports/errors/{job}: the error workbook of the user's import job.
pub async fn error_workbook(
    State(state): State<AppState>,
    auth: Auth,
    Path(job): Path<String>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let id = job_id(&job).map_err(|e| WebError::page(e, lang))?;
    let bytes = xiuhua_app::jobs::import_error_workbook(&state.services, &auth.user, id)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    Ok(xlsx_response(bytes, "导入错误行.xlsx"))
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
pub async fn export_registry(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(q.as_of.as_deref())?;
    let csv = q.format.as_deref() == Some("csv");
    let path = tempfile_dir().join(format!("export-{}", xiuhua_app::auth::random_token()));
    let format = if csv {
        ExportFormat::Csv
    } else {
        ExportFormat::Xlsx
    };
    exports::export_registry(
        &state.services,
        &auth.user,
        &exports::RegistryExport {
            region: q.region.as_deref(),
            as_of,
            format,
            purpose: q.purpose.as_deref().unwrap_or(""),
        },
        &path,
        &|_| {},
    )
    .await
    .map_err(|e| WebError::page(e, lang))?;
    let bytes = std::fs::read(&path)
        .map_err(|e| WebError::page(xiuhua_app::Error::Unexpected(e.into()), lang))?;
    let _ = std::fs::remove_file(&path);
    let region = q.region.unwrap_or_default();
    let suffix = as_of.map(|d| format!("-{d}")).unwrap_or_default();
    if csv {
        let name = format!("台账-{region}{suffix}.csv");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename*=UTF-8''{}",
                        crate::pages::url_encode(&name)
                    ),
                ),
            ],
            Body::from(bytes),
        )
            .into_response())
    } else {
        Ok(xlsx_response(bytes, &format!("台账-{region}{suffix}.xlsx")))
    }
}

/// GET /exports/statistics: the standard statistics tables of a region.
pub async fn export_statistics(
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
}

/// GET /households/export: the household list, as filtered on the page, as `.xlsx`.
pub async fn export_list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListExportQuery>,
) -> Result<Response, WebError> {
    let what = xiuhua_app::list_export::ListExport {
        region: q.region,
        text: q.q,
        status: q.status,
        monitoring: q.monitoring,
        purpose: q.purpose.unwrap_or_default(),
    };
    let bytes = xiuhua_app::list_export::export_list(&state.services, &auth.user, &what)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    Ok(xlsx_response(bytes, "农户名单.xlsx"))
}
