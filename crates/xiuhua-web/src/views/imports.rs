//! The ledger upload page: the form, the progress of a running import job, and the report of a
//! finished one (counts, every problem listed, the error workbook to download).

use askama::Template;
use xiuhua_app::imports::ImportCounts;
use xiuhua_app::jobs::ImportOutcome;

use super::Layout;

/// The upload page, with a job's progress, report or failure when there is one.
#[derive(Template)]
#[template(path = "imports/upload.html")]
pub struct ImportPage {
    l: Layout,
    counties: Vec<(String, String)>,
    today: String,
    /// The finished job's report.
    pub report: Option<ReportView>,
    /// An error shown above the report.
    pub error: String,
    /// The running job the page polls ("" for none).
    pub job: String,
}

/// The report of a finished import.
pub struct ReportView {
    counts: ImportCounts,
    ok: bool,
    file: String,
    unknown: Vec<String>,
    skipped: Vec<String>,
    problems: Vec<(String, usize, String, String, String, String)>,
    more: usize,
    errors_link: String,
}

/// The template reads the counts as `r.rows`, `r.dry_run` ….
impl std::ops::Deref for ReportView {
    type Target = ImportCounts;
    fn deref(&self) -> &ImportCounts {
        &self.counts
    }
}

impl ImportPage {
    /// The empty form; `roots` are the user's top regions as (code, name): those at county
    /// level or below are offered as they are (a village operator imports into their village).
    pub fn new(l: Layout, roots: Vec<(String, String)>, today: String) -> ImportPage {
        ImportPage {
            counties: roots
                .into_iter()
                .filter(|(code, _)| code.len() >= 6)
                .collect(),
            today,
            l,
            report: None,
            error: String::new(),
            job: String::new(),
        }
    }
}

/// The report of job `job`'s outcome.
pub fn report_view(job: i64, r: ImportOutcome) -> ReportView {
    let ImportOutcome {
        file_name,
        counts,
        problem_count,
        problems,
        error_workbook,
    } = r;
    ReportView {
        ok: problem_count == 0,
        file: file_name,
        unknown: counts
            .unknown_columns
            .iter()
            .map(|(s, c, n)| format!("{s} 第{c}列“{n}”"))
            .collect(),
        skipped: counts.skipped_sheets.clone(),
        more: problem_count.saturating_sub(problems.len()),
        problems,
        errors_link: if error_workbook.is_some() {
            format!("/imports/errors/{job}")
        } else {
            String::new()
        },
        counts,
    }
}
