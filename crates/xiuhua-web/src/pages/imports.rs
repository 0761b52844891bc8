//! The ledger upload: the form, the upload that starts an import job (a dry-run preview or the
//! real thing), the job's progress, its report and its error workbook.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{Html, Response};
use axum::response::{IntoResponse, Redirect};
use tokio::io::AsyncWriteExt;
use xiuhua_app::imports::{ImportOptions, mappings};
use xiuhua_app::jobs::{ImportOutcome, JobState};
use xiuhua_domain::RegistryStatus;
use xiuhua_domain::message::msg;

use super::exports::xlsx_response;
use super::parse_date;
use crate::AppState;
use crate::auth::{Auth, CsrfForm, client_address};
use crate::error::WebError;
use crate::views::imports::{ColumnDialog, ImportPage, report_view, saved_rows};
use crate::views::{Layout, render};

/// The empty upload page (its county select from the user's top regions).
async fn empty_page(state: &AppState, auth: &Auth) -> Result<ImportPage, WebError> {
    let roots = xiuhua_app::regions::roots(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    let mut page = ImportPage::new(
        Layout::new(auth, "台账导入"),
        roots.into_iter().map(|r| (r.code, r.name)).collect(),
        state.services.clock.today().to_string(),
    );
    if auth.user.require_county().is_ok() {
        let saved = mappings::list(&state.services, &auth.user)
            .await
            .map_err(|e| WebError::page(e, auth.t.lang))?;
        page.saved = saved_rows(&auth.t, saved);
    }
    Ok(page)
}

/// GET /imports
pub async fn new_form(State(state): State<AppState>, auth: Auth) -> Result<Html<String>, WebError> {
    // A role that cannot import is told so before it picks a file.
    auth.user
        .require_write()
        .map_err(|e| WebError::page(e, auth.t.lang))?;
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

/// Uploads in progress, per user id (shared by every request of the server).
#[derive(Clone, Default)]
pub struct UploadSlots(Arc<Mutex<HashMap<i64, usize>>>);

/// One upload's place among its user's uploads in progress; freed when dropped.
pub struct UploadSlot {
    slots: UploadSlots,
    user: i64,
}

impl UploadSlots {
    /// A slot for one more upload of `user`, unless they have `max` in progress already.
    pub fn try_take(&self, user: i64, max: usize) -> Option<UploadSlot> {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = m.entry(user).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(UploadSlot {
            slots: self.clone(),
            user,
        })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut m = self.slots.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.user);
            }
        }
    }
}

/// The file an upload is written to; removed when dropped unless handed to the import job.
struct TempUpload {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Most parts a form may have (it has seven).
const MAX_PARTS: usize = 16;
/// Longest text field (bytes); the mapping file may be longer.
const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Longest column-mapping file (bytes).
const MAX_MAPPING_BYTES: usize = 1024 * 1024;

/// A small part, read whole up to `max` bytes.
async fn read_small(field: &mut Field<'_>, max: usize) -> Result<Vec<u8>, WebError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_request)? {
        if out.len() + chunk.len() > max {
            return Err(bad_request(format!(
                "form field {:?} is longer than {max} bytes",
                field.name().unwrap_or("")
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The refusal of an upload past the limit.
fn too_large(limit: u64, lang: crate::i18n::Lang) -> WebError {
    WebError::Refused {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "too_large",
        message: msg("upload_too_large").arg("max_mib", limit.div_ceil(1024 * 1024)),
        json: false,
        lang,
    }
}

/// Reads the multipart form, streaming the file to `file.path` chunk by chunk and refusing it
/// past `limit` bytes. Unless the token came in a header or the query (`csrf_checked`), the
/// first part must be the `csrf` field, and it is checked before anything else is read.
async fn read_upload(
    form: &mut Multipart,
    file: &TempUpload,
    csrf_checked: bool,
    auth: &Auth,
    limit: u64,
) -> Result<Upload, WebError> {
    let lang = auth.t.lang;
    let unexpected =
        |e: std::io::Error| WebError::page(xiuhua_app::Error::Unexpected(e.into()), lang);
    let mut up = Upload {
        fields: HashMap::new(),
        file_name: String::new(),
        got_file: false,
    };
    let mut parts = 0;
    let mut csrf_checked = csrf_checked;
    while let Some(mut field) = form.next_field().await.map_err(bad_request)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(bad_request("too many form fields"));
        }
        let name = field.name().unwrap_or("").to_string();
        if !csrf_checked {
            if name != "csrf" {
                return Err(WebError::Csrf);
            }
            let token = read_small(&mut field, 256).await?;
            auth.check_csrf(std::str::from_utf8(&token).ok())?;
            csrf_checked = true;
            continue;
        }
        match name.as_str() {
            "file" => {
                if up.got_file {
                    return Err(bad_request("more than one file"));
                }
                up.file_name = field.file_name().unwrap_or("upload").to_string();
                let mut out = tokio::fs::File::create(&file.path)
                    .await
                    .map_err(unexpected)?;
                let mut written: u64 = 0;
                while let Some(chunk) = field.chunk().await.map_err(bad_request)? {
                    written += chunk.len() as u64;
                    if written > limit {
                        return Err(too_large(limit, lang));
                    }
                    out.write_all(&chunk).await.map_err(unexpected)?;
                }
                out.flush().await.map_err(unexpected)?;
                up.got_file = true;
            }
            "mapping" => {
                let bytes = read_small(&mut field, MAX_MAPPING_BYTES).await?;
                up.fields
                    .insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
            _ => {
                let bytes = read_small(&mut field, MAX_FIELD_BYTES).await?;
                up.fields
                    .insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    if !csrf_checked {
        return Err(WebError::Csrf);
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
        default_status: default_status(f.get("default_status").map(String::as_str))?,
        valid_only: f.get("valid_only").is_some_and(|v| v == "1" || v == "on"),
    })
}

/// The form's default status (`general`, `poor`, `lifted`; empty for none).
fn default_status(v: Option<&str>) -> Result<Option<RegistryStatus>, WebError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => RegistryStatus::parse(v)
            .map(Some)
            .ok_or_else(|| bad_request(format!("unknown default status {v:?}"))),
    }
}

/// The CSRF token of an upload may come in the query (`?csrf=`) instead of the first part.
#[derive(serde::Deserialize)]
pub struct UploadQuery {
    csrf: Option<String>,
}

/// POST /imports (multipart: csrf first, then file, county, effective_date, dry_run, reason,
/// mapping). Before a byte of the body is read: the session, a role that may write, the CSRF
/// token (from `X-CSRF-Token` or `?csrf=`, else the first part — and nothing else is read if
/// it is wrong), and a free upload slot of the user. The file then streams to a temporary file
/// under the size limit.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    auth.user
        .require_write()
        .map_err(|e| WebError::page(e, lang))?;
    let given = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(q.csrf);
    if let Some(token) = &given {
        auth.check_csrf(Some(token))?;
    }
    let max = state.config.max_uploads_per_user;
    let Some(_slot) = state.uploads.try_take(auth.user.id, max) else {
        return Err(WebError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_uploads",
            message: msg("too_many_uploads").arg("max", max),
            json: false,
            lang,
        });
    };
    let mut form = Multipart::from_request(req, &state)
        .await
        .map_err(bad_request)?;
    let dir = state
        .config
        .upload_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let mut file = TempUpload {
        path: dir.join(format!("upload-{}", xiuhua_app::auth::random_token())),
        keep: false,
    };
    let limit = state.config.max_upload_bytes;
    let up = read_upload(&mut form, &file, given.is_some(), &auth, limit).await?;
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
    // The import runs in the background as a stored job, which owns the file from here; the
    // page polls its progress and then shows the report.
    file.keep = true;
    let id = start_job(&state, &auth, file.path.clone(), opts).await?;
    page.job = id.to_string();
    render(&page, lang)
}

/// The directory uploads are written to.
fn upload_dir(state: &AppState) -> PathBuf {
    state
        .config
        .upload_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
}

/// How long an uploaded file is kept for the column dialog and "import now".
const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The kept copy of job `job`'s file and its options: `xiuhua-kept-{job}` and `….json`.
fn kept_paths(state: &AppState, job: i64) -> (PathBuf, PathBuf) {
    let dir = upload_dir(state);
    (
        dir.join(format!("xiuhua-kept-{job}")),
        dir.join(format!("xiuhua-kept-{job}.json")),
    )
}

/// What a kept upload was imported with (its owner too: only they may use it again).
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptOptions {
    owner: i64,
    county: String,
    effective_date: chrono::NaiveDate,
    mapping: Vec<(String, String)>,
    file_name: String,
    reason: String,
    default_status: Option<String>,
    valid_only: bool,
}

impl KeptOptions {
    /// The options of an import of the kept file: as kept, checked again (`dry_run`) or not.
    fn import_options(self, dry_run: bool) -> ImportOptions {
        ImportOptions {
            county: self.county,
            effective_date: self.effective_date,
            dry_run,
            mapping: self.mapping,
            file_name: self.file_name,
            reason: self.reason,
            default_status: self
                .default_status
                .as_deref()
                .and_then(RegistryStatus::parse),
            valid_only: self.valid_only,
        }
    }
}

/// A second name for `from` at `to` (a hard link, else a copy).
fn link_or_copy(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
}

/// Deletes kept uploads older than [`KEPT_FOR`].
fn sweep_kept(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > KEPT_FOR);
        if old && e.file_name().to_string_lossy().starts_with("xiuhua-kept-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Starts the import job of the file at `job_file` (which the job deletes when it ends) and
/// keeps a second name of the file with the options for the report's column dialog and its
/// "import now" (for [`KEPT_FOR`]).
async fn start_job(
    state: &AppState,
    auth: &Auth,
    job_file: PathBuf,
    opts: ImportOptions,
) -> Result<i64, WebError> {
    let lang = auth.t.lang;
    let dir = upload_dir(state);
    sweep_kept(&dir);
    let pending = dir.join(format!(
        "xiuhua-kept-new-{}",
        xiuhua_app::auth::random_token()
    ));
    let kept = link_or_copy(&job_file, &pending).is_ok();
    let kept_opts = KeptOptions {
        owner: auth.user.id,
        county: opts.county.clone(),
        effective_date: opts.effective_date,
        mapping: opts.mapping.clone(),
        file_name: opts.file_name.clone(),
        reason: opts.reason.clone(),
        default_status: opts.default_status.map(|s| s.as_str().to_string()),
        valid_only: opts.valid_only,
    };
    let id = match xiuhua_app::jobs::start_import(&state.services, &auth.user, job_file, opts).await
    {
        Ok(id) => id,
        Err(e) => {
            let _ = std::fs::remove_file(&pending);
            return Err(WebError::page(e, lang));
        }
    };
    if kept {
        let (file, meta) = kept_paths(state, id);
        let stored = serde_json::to_vec(&kept_opts)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&meta, bytes))
            .and_then(|()| std::fs::rename(&pending, &file));
        if let Err(e) = stored {
            tracing::warn!(job = id, error = %e, "cannot keep an upload for the column dialog");
            let _ = std::fs::remove_file(&pending);
            let _ = std::fs::remove_file(&meta);
        }
    }
    Ok(id)
}

/// The kept file and options of the user's job `id`, if they are still there.
fn kept_upload(state: &AppState, auth: &Auth, id: i64) -> Option<(PathBuf, KeptOptions)> {
    let (file, meta) = kept_paths(state, id);
    let opts: KeptOptions = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
    (opts.owner == auth.user.id && file.exists()).then_some((file, opts))
}

/// The column dialog's answer: pairs `h` (header as written) and `f` (field name, "" to
/// ignore) in the columns' order, `save` to save the mapping for the county, `dry_run`.
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct RecheckForm(Vec<(String, String)>);

/// POST /imports/jobs/{id}/recheck: the kept file of the user's job checked again (or, without
/// `dry_run`, imported) with the dialog's column choices, which `save` stores as the county's
/// column names first. Starts a new job; the page polls it like an upload.
pub async fn recheck(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(RecheckForm(form)): CsrfForm<RecheckForm>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    auth.user
        .require_write()
        .map_err(|e| WebError::page(e, lang))?;
    let id = job_id(&id).map_err(|e| WebError::page(e, lang))?;
    // The job must be the user's (and in their scope), and its file still kept.
    xiuhua_app::jobs::get(&state.services, &auth.user, id)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let mut page = empty_page(&state, &auth).await?;
    let Some((kept, k)) = kept_upload(&state, &auth, id) else {
        page.error = "上传的文件已不在服务器上，请重新上传。".into();
        return render(&page, lang);
    };
    let mut headers_written = Vec::new();
    let mut chosen = Vec::new();
    let (mut save, mut dry_run, mut choices, mut valid_only) = (false, false, false, false);
    let mut status = None;
    for (k, v) in form {
        let on = v == "1" || v == "on";
        match k.as_str() {
            "h" => headers_written.push(v),
            "f" => chosen.push(v),
            "save" => save = on,
            "dry_run" => dry_run = on,
            // The dialog's own choices replace the kept ones ("import now" keeps them).
            "choices" => choices = on,
            "valid_only" => valid_only = on,
            "default_status" => status = default_status(Some(&v))?,
            _ => {}
        }
    }
    let entries: Vec<(String, String)> = headers_written
        .into_iter()
        .zip(chosen)
        .filter(|(h, f)| !h.trim().is_empty() && !f.is_empty())
        .collect();
    if save && !entries.is_empty() {
        mappings::save(
            &state.services,
            &auth.user,
            &k.county,
            &entries,
            &client_address(&headers),
        )
        .await
        .map_err(|e| WebError::page(e, lang))?;
    }
    let mut opts = k.import_options(dry_run);
    opts.mapping.splice(0..0, entries);
    if choices {
        opts.valid_only = valid_only;
        opts.default_status = status.or(opts.default_status);
    }
    let job_file = upload_dir(&state).join(format!("upload-{}", xiuhua_app::auth::random_token()));
    link_or_copy(&kept, &job_file)
        .map_err(|e| WebError::page(xiuhua_app::Error::Unexpected(e.into()), lang))?;
    page.job = start_job(&state, &auth, job_file, opts).await?.to_string();
    render(&page, lang)
}

/// The delete form of a saved column name.
#[derive(serde::Deserialize)]
pub struct DeleteMappingForm {
    county: String,
    header: String,
}

/// POST /imports/mappings/delete: an administrator deletes a saved column name of a county.
pub async fn delete_mapping(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<DeleteMappingForm>,
) -> Result<Response, WebError> {
    mappings::delete(
        &state.services,
        &auth.user,
        &f.county,
        &f.header,
        &client_address(&headers),
    )
    .await
    .map_err(|e| WebError::page(e, auth.t.lang))?;
    Ok(Redirect::to("/imports#saved-mappings").into_response())
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

/// The report page's query: the page of the preview's household changes.
#[derive(serde::Deserialize)]
pub struct ReportQuery {
    page: Option<usize>,
}

/// The column dialog of a finished job whose file is kept: its unknown columns (with the
/// county's saved names applied), and "import now" after a clean dry run. `None` when there is
/// nothing to offer.
async fn dialog(
    state: &AppState,
    auth: &Auth,
    id: i64,
    kept: &std::path::Path,
    k: KeptOptions,
    outcome: &ImportOutcome,
) -> Option<ColumnDialog> {
    let refused = outcome.problem_count > 0 && (outcome.refused || outcome.held_back.is_empty());
    let can_import = outcome.dry_run && !refused;
    let valid_only = k.valid_only;
    let status = k.default_status.clone().unwrap_or_default();
    let columns = if outcome.unknown_columns.is_empty() {
        Vec::new()
    } else {
        let opts = k.import_options(true);
        mappings::unknown_columns(&state.services, &auth.user, kept, &opts)
            .await
            .unwrap_or_default()
    };
    let offer = can_import || !columns.is_empty() || outcome.no_status_column || refused;
    offer.then(|| {
        let mut d = ColumnDialog::new(&auth.t, id, columns, can_import);
        d.ask_status = outcome.no_status_column;
        d.status = status;
        d.valid_only = valid_only;
        d
    })
}

/// GET /imports/jobs/{id}/report: the report of a finished import (or the progress page),
/// with page `?page=` of a dry run's household changes.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
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
            if let Some((kept, k)) = kept_upload(&state, &auth, id) {
                page.dialog = dialog(&state, &auth, id, &kept, k, &outcome).await;
            }
            let codes = state.services.codes();
            page.report = Some(report_view(
                &auth.t,
                &codes,
                id,
                outcome,
                q.page.unwrap_or(1),
            ));
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
