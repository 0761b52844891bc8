//! The ledger upload: the form, the upload that starts an import job (a dry-run preview or the
//! real thing), the job's progress, its report and its error workbook.

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::extract::{Multipart, Path, State};
use axum::response::{Html, Response};
use xiuhua_app::imports::ImportOptions;
use xiuhua_app::jobs::{ImportOutcome, JobState};

use super::exports::xlsx_response;
use super::parse_date;
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::views::imports::{ImportPage, report_view};
use crate::views::{Layout, render};

/// The empty upload page (its county select from the user's top regions).
async fn empty_page(state: &AppState, auth: &Auth) -> Result<ImportPage, WebError> {
    let roots = xiuhua_app::regions::roots(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    Ok(ImportPage::new(
        Layout::new(auth, "台账导入"),
        roots.into_iter().map(|r| (r.code, r.name)).collect(),
        state.services.clock.today().to_string(),
    ))
}

/// GET /imports
pub async fn new_form(State(state): State<AppState>, auth: Auth) -> Result<Html<String>, WebError> {
    let page = empty_page(&state, &auth).await?;
    render(&page, auth.t.lang)
}

/// The multipart upload: its text fields, the original file name and whether a file came.
struct Upload {
    fields: HashMap<String, String>,
    file_name: String,
    got_file: bool,
}

fn bad_request(e: impl ToString) -> WebError {
    WebError::BadRequest(e.to_string())
}

/// Reads the multipart form, writing the file to `path`.
async fn read_upload(form: &mut Multipart, path: &FsPath, auth: &Auth) -> Result<Upload, WebError> {
    let mut up = Upload {
        fields: HashMap::new(),
        file_name: String::new(),
        got_file: false,
    };
    while let Some(field) = form.next_field().await.map_err(bad_request)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "mapping" {
            let bytes = field.bytes().await.map_err(bad_request)?;
            up.fields
                .insert(name, String::from_utf8_lossy(&bytes).into_owned());
        } else if name == "file" {
            up.file_name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(bad_request)?;
            std::fs::write(path, &bytes).map_err(|e| {
                WebError::page(xiuhua_app::Error::Unexpected(e.into()), auth.t.lang)
            })?;
            up.got_file = true;
        } else {
            up.fields
                .insert(name, field.text().await.map_err(bad_request)?);
        }
    }
    Ok(up)
}

/// The import options from the form's fields.
fn options(
    state: &AppState,
    up: &Upload,
    mapping: Vec<(String, String)>,
) -> Result<ImportOptions, WebError> {
    let f = &up.fields;
    let effective_date = parse_date(f.get("effective_date").map(String::as_str))?
        .unwrap_or_else(|| state.services.clock.today());
    Ok(ImportOptions {
        county: f.get("county").cloned().unwrap_or_default(),
        effective_date,
        dry_run: f.get("dry_run").is_some_and(|v| v == "1" || v == "on"),
        mapping,
        file_name: up.file_name.clone(),
        reason: f
            .get("reason")
            .cloned()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "台账导入".into()),
    })
}

/// POST /imports (multipart: csrf, file, county, effective_date, dry_run). The CSRF token is a
/// multipart field, so it is checked here by hand once the form is read.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    mut form: Multipart,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let path = std::env::temp_dir().join(format!("upload-{}", xiuhua_app::auth::random_token()));
    let up = read_upload(&mut form, &path, &auth).await?;
    auth.check_csrf(up.fields.get("csrf").map(String::as_str))?;
    let mut page = empty_page(&state, &auth).await?;
    if !up.got_file {
        page.error = "请选择要导入的文件".into();
        return render(&page, lang);
    }
    let mapping = match up.fields.get("mapping").filter(|m| !m.trim().is_empty()) {
        Some(text) => match xiuhua_xlsx::columns::parse_mapping(text) {
            Ok(m) => m,
            Err(e) => {
                page.error = format!("列对照文件有误：{e}");
                return render(&page, lang);
            }
        },
        None => Vec::new(),
    };
    let opts = options(&state, &up, mapping)?;
    // The import runs in the background as a stored job; the page polls its progress and then
    // shows the report.
    let id = xiuhua_app::jobs::start_import(&state.services, &auth.user, path, opts)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    page.job = id.to_string();
    render(&page, lang)
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
pub async fn status(
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
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let id = job_id(&id).map_err(|e| WebError::page(e, lang))?;
    let job = xiuhua_app::jobs::get(&state.services, &auth.user, id)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let mut page = empty_page(&state, &auth).await?;
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
    render(&page, lang)
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
