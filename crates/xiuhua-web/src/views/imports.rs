//! The ledger upload page: the form, the progress of a running import job, and the report of a
//! finished one (counts, every problem listed, the error workbook to download).

use askama::Template;
use xiuhua_app::imports::ImportCounts;
use xiuhua_app::imports::diff::{FieldDiff, HouseholdDiff, MemberRef};
use xiuhua_app::imports::mappings::{SavedMapping, UnknownColumn};
use xiuhua_app::jobs::ImportOutcome;
use xiuhua_domain::{CodeCatalog, FieldCatalog, FieldLevel, RegistryStatus};

use super::Layout;
use super::household::show_value;
use crate::i18n::{Lang, T, field_label};

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
    /// The column dialog of a finished check whose file is kept (unknown columns to map).
    pub dialog: Option<ColumnDialog>,
    /// The county's saved column names (shown to administrators, with a delete button).
    pub saved: Vec<SavedRow>,
    /// The default statuses the upload form offers: (value, label).
    statuses: Vec<(String, String)>,
}

/// A saved column name as the list shows it.
pub struct SavedRow {
    county: String,
    /// The normalised header (the key the delete form sends).
    header: String,
    header_written: String,
    field_label: String,
    saved_by: String,
    saved_at: String,
}

/// The saved column names as the list shows them (field labels in `t`'s language, times in
/// China time).
pub fn saved_rows(t: &T, saved: Vec<SavedMapping>) -> Vec<SavedRow> {
    saved
        .into_iter()
        .map(|m| SavedRow {
            field_label: field_label(t.lang, &m.field),
            saved_at: super::local_time(&m.saved_at),
            county: m.county,
            header: m.header,
            header_written: m.header_written,
            saved_by: m.saved_by,
        })
        .collect()
}

/// The column dialog: unknown columns with a select of catalogue fields each, posted to
/// `/imports/jobs/{job}/recheck` with the kept file.
pub struct ColumnDialog {
    /// The job whose kept file is checked again.
    pub job: i64,
    /// The unknown columns (empty: only the "import now" form is shown).
    pub columns: Vec<UnknownColumn>,
    /// Household fields: (name, label), catalogue order.
    pub household_fields: Vec<(String, String)>,
    /// Member fields: (name, label), catalogue order.
    pub member_fields: Vec<(String, String)>,
    /// The check found nothing wrong and was a dry run: the file may be imported as it is.
    pub can_import: bool,
    /// The file has no status column: the default status is asked for (required).
    pub ask_status: bool,
    /// The default status chosen so far (`general`, `poor`, `lifted` or "").
    pub status: String,
    /// The statuses offered: (value, label).
    pub statuses: Vec<(String, String)>,
    /// Valid-only was chosen.
    pub valid_only: bool,
}

impl ColumnDialog {
    /// The dialog of job `job` with its unknown columns; field labels in `t`'s language.
    pub fn new(t: &T, job: i64, columns: Vec<UnknownColumn>, can_import: bool) -> ColumnDialog {
        let en = t.lang == crate::i18n::Lang::En;
        let of = |level: FieldLevel| {
            FieldCatalog::shipped()
                .columns()
                .filter(|d| d.level == level && d.name != "ignored")
                .map(|d| (d.name.clone(), d.label(en).to_string()))
                .collect()
        };
        ColumnDialog {
            job,
            columns,
            household_fields: of(FieldLevel::Household),
            member_fields: of(FieldLevel::Member),
            can_import,
            ask_status: false,
            status: String::new(),
            statuses: statuses(t),
            valid_only: false,
        }
    }
}

/// The statuses a file's default may be: (value, label).
pub fn statuses(t: &T) -> Vec<(String, String)> {
    RegistryStatus::ALL
        .into_iter()
        .map(|s| (s.as_str().to_string(), t.status(s).to_string()))
        .collect()
}

/// One household's change as the preview shows it.
pub struct DiffView {
    household_no: String,
    head_name: String,
    row: usize,
    new: bool,
    /// "label：old → new" of the household's fields, then "name: label：old → new" of members.
    lines: Vec<String>,
    /// Members added: "name（masked id，relation）".
    added: Vec<String>,
    /// Members removed.
    removed: Vec<String>,
}

/// Households per page of the preview.
pub const DIFFS_PER_PAGE: usize = 20;

/// The page `page` (1-based) of a dry run's diffs, shown in `t`'s language.
fn diff_views(t: &T, codes: &CodeCatalog, diffs: &[HouseholdDiff], page: usize) -> Vec<DiffView> {
    let line = |f: &FieldDiff| {
        format!(
            "{}：{} → {}",
            field_label(t.lang, &f.field),
            show_value(t, codes, &f.field, &f.old),
            show_value(t, codes, &f.field, &f.new)
        )
    };
    let member = |m: &MemberRef| {
        format!(
            "{}（{}，{}）",
            m.name,
            m.id_number,
            t.code(codes, "relation", &m.relation)
        )
    };
    diffs
        .iter()
        .skip((page - 1) * DIFFS_PER_PAGE)
        .take(DIFFS_PER_PAGE)
        .map(|d| DiffView {
            household_no: d.household_no.clone(),
            head_name: d.head_name.clone(),
            row: d.row,
            new: d.new,
            lines: d
                .fields
                .iter()
                .map(line)
                .chain(d.members_changed.iter().flat_map(|m| {
                    m.fields
                        .iter()
                        .map(|f| format!("{}：{}", m.member.name, line(f)))
                        .collect::<Vec<_>>()
                }))
                .collect(),
            added: d.members_added.iter().map(member).collect(),
            removed: d.members_removed.iter().map(member).collect(),
        })
        .collect()
}

/// The report of a finished import.
pub struct ReportView {
    counts: ImportCounts,
    ok: bool,
    file: String,
    unknown: Vec<String>,
    skipped: Vec<String>,
    /// Rows that are not households (totals, footers, notes, repeated headers), skipped.
    notices: Vec<String>,
    problems: Vec<(String, usize, String, String, String, String)>,
    more: usize,
    errors_link: String,
    job: i64,
    /// A valid-only import held back the households with problems (the rest was, or would be,
    /// imported).
    partial: bool,
    /// The households held back, each with its problems ("column：reason").
    held_back: Vec<(String, Vec<String>)>,
    /// The preview's page of household changes.
    diffs: Vec<DiffView>,
    /// Households with changes in all, and of them kept in the report.
    diffs_total: usize,
    diffs_kept: usize,
    /// The page shown (1-based) and the number of pages.
    page: usize,
    pages: usize,
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
            report: None,
            error: String::new(),
            job: String::new(),
            dialog: None,
            saved: Vec::new(),
            statuses: statuses(&l.t),
            l,
        }
    }
}

/// The report of job `job`'s outcome, with page `page` of its household changes.
pub fn report_view(
    t: &T,
    codes: &CodeCatalog,
    job: i64,
    r: ImportOutcome,
    page: usize,
) -> ReportView {
    let ImportOutcome {
        file_name,
        counts,
        problem_count,
        problems,
        error_workbook,
        diffs,
        diffs_total,
        refused,
        problem_households,
    } = r;
    let partial = problem_count > 0 && !refused && !counts.held_back.is_empty();
    let held_back = counts
        .held_back
        .iter()
        .map(|no| {
            let reasons = problems
                .iter()
                .zip(&problem_households)
                .filter(|(_, h)| *h == no)
                .map(|(p, _)| {
                    if p.2.is_empty() {
                        format!("第{}行：{}", p.1, p.4)
                    } else {
                        format!("第{}行 {}：{}", p.1, p.2, p.4)
                    }
                })
                .collect();
            (no.clone(), reasons)
        })
        .collect();
    let pages = diffs.len().div_ceil(DIFFS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    ReportView {
        job,
        partial,
        held_back,
        diffs: if problem_count == 0 || partial {
            diff_views(t, codes, &diffs, page)
        } else {
            Vec::new()
        },
        diffs_total,
        diffs_kept: diffs.len(),
        page,
        pages,
        ok: problem_count == 0,
        file: file_name,
        unknown: counts
            .notices
            .iter()
            .filter(|n| n.kind == "ledger_unknown_column")
            .map(|n| format!("{} {}“{}”", n.sheet, n.column, n.text))
            .collect(),
        notices: counts
            .notices
            .iter()
            .filter(|n| n.kind != "ledger_unknown_column")
            .map(|n| {
                let reason = match t.lang {
                    Lang::Zh => &n.reason_zh,
                    Lang::En => &n.reason_en,
                };
                format!("{}：{reason}", n.sheet)
            })
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
