//! `xiuhua import`: import a household ledger (.xlsx, .xls or .csv), all rows or none.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use xiuhua_app::CurrentUser;
use xiuhua_app::imports::diff::{FieldDiff, MemberRef};
use xiuhua_app::imports::{ImportOptions, ImportReport};
use xiuhua_domain::display::format_json_number;
use xiuhua_domain::{CodeCatalog, FieldCatalog, RegistryStatus};

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ledger file.
    file: PathBuf,
    /// County code the ledger belongs to.
    #[arg(long)]
    county: String,
    /// From when the imported facts are true (default: today).
    #[arg(long)]
    effective_date: Option<NaiveDate>,
    /// Show what would change and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Extra header names: lines of `表头<TAB>field` (fields as in docs/import.md).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Reason recorded on every event.
    #[arg(long, default_value = "台账导入")]
    reason: String,
    /// Where to write the error workbook when there are problems.
    #[arg(long)]
    errors: Option<PathBuf>,
    /// With --dry-run: how many households' changes to print (the first ones of the file).
    #[arg(long, default_value_t = 20)]
    diff_limit: usize,
    /// Where to write the report as JSON (counts, and every problem with its code, sheet, row,
    /// column, 户编号, value and message in Chinese and English), also when the import fails.
    #[arg(long)]
    report: Option<PathBuf>,
    /// The status of new households whose rows say nothing about it (required when the file
    /// has no 户类型 / 户属性 / 脱贫年度 / 脱贫标志 / 监测对象类型 column): general (一般农户),
    /// poor (贫困户) or lifted (脱贫户).
    #[arg(long, value_parser = parse_status)]
    default_status: Option<RegistryStatus>,
    /// Import the valid households and hold back the invalid ones (listed with their problems);
    /// without it, all households or none.
    #[arg(long)]
    valid_only: bool,
}

/// A `--default-status` value: the storage form or the Chinese label.
fn parse_status(s: &str) -> Result<RegistryStatus, String> {
    RegistryStatus::parse(s)
        .or_else(|| {
            RegistryStatus::ALL
                .into_iter()
                .find(|v| v.label_zh() == s.trim())
        })
        .ok_or_else(|| format!("unknown status {s:?} (general, poor or lifted)"))
}

/// Imports the ledger as the system user and prints the report; fails when it has problems.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let opts = ImportOptions {
        county: a.county.clone(),
        effective_date: a.effective_date.unwrap_or_else(|| s.clock.today()),
        dry_run: a.dry_run,
        mapping: read_mapping(a.mapping.as_deref())?,
        file_name: a
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        reason: a.reason.clone(),
        default_status: a.default_status,
        valid_only: a.valid_only,
    };
    let started = Instant::now();
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("导入 {spinner} {pos} 行 ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let report =
        xiuhua_app::imports::import_ledger(&s, &CurrentUser::system(), &a.file, &opts, &|rows| {
            pb.set_position(rows as u64)
        })
        .await
        .map_err(cli_error)?;
    pb.finish_and_clear();
    print_diffs(&s.codes(), &report, a.diff_limit);
    print_report(a, &report, started)
}

/// Prints a dry run's changes of the first `limit` households (English, values with their
/// code labels; identity numbers and other personal data masked as the report holds them).
fn print_diffs(codes: &CodeCatalog, report: &ImportReport, limit: usize) {
    if report.refused {
        return;
    }
    for d in report.diffs.iter().take(limit) {
        let head = if d.head_name.is_empty() {
            String::new()
        } else {
            format!(" ({})", d.head_name)
        };
        let member = |m: &MemberRef| {
            format!(
                "{} {} {}",
                m.name,
                m.id_number,
                codes.label_en("relation", &m.relation)
            )
        };
        if d.new {
            outln!("+ new household {}{head}, row {}", d.household_no, d.row);
        } else {
            outln!("~ household {}{head}, row {}", d.household_no, d.row);
        }
        for f in &d.fields {
            outln!("    {}", field_line(codes, f));
        }
        for m in &d.members_added {
            outln!("    + member {}", member(m));
        }
        for m in &d.members_removed {
            outln!("    - member {}", member(m));
        }
        for m in &d.members_changed {
            for f in &m.fields {
                outln!("    {}: {}", m.member.name, field_line(codes, f));
            }
        }
    }
    if report.diffs_total > limit.min(report.diffs.len()) {
        outln!(
            "… {} more households with changes (--diff-limit)",
            report.diffs_total - limit.min(report.diffs.len())
        );
    }
}

/// "label: old → new" of a field change.
fn field_line(codes: &CodeCatalog, f: &FieldDiff) -> String {
    let label = FieldCatalog::shipped()
        .find(&f.field)
        .map_or(f.field.as_str(), |d| d.label(true));
    format!(
        "{label}: {} → {}",
        shown(codes, &f.field, &f.old),
        shown(codes, &f.field, &f.new)
    )
}

/// A value as a person reads it: code labels, money in yuan, areas to 0.01.
fn shown(codes: &CodeCatalog, field: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    let def = FieldCatalog::shipped().find(field);
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => (if *b { "yes" } else { "no" }).into(),
        Value::String(s) => match def.and_then(|d| d.code_list.as_deref()) {
            Some(list) if !list.starts_with('@') => codes.label_en(list, s).to_string(),
            _ => s.clone(),
        },
        Value::Array(a) if a.is_empty() => "—".into(),
        Value::Array(a) => a
            .iter()
            .map(|x| shown(codes, field, x))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Number(_) => {
            format_json_number(def.map(|d| d.ty), v).unwrap_or_else(|| v.to_string())
        }
        other => other.to_string(),
    }
}

/// The extra header names of `--mapping`, if given.
fn read_mapping(path: Option<&Path>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(m) = path else {
        return Ok(Vec::new());
    };
    let text =
        std::fs::read_to_string(m).with_context(|| format!("cannot read {}", m.display()))?;
    xiuhua_xlsx::columns::parse_mapping(&text)
        .map_err(|e| anyhow::anyhow!("mapping file {}: {e}", m.display()))
}

/// Prints what was (or would be) imported, or the problems (and writes the error workbook and
/// the JSON report); the counts are printed either way.
fn print_report(a: &Args, report: &ImportReport, started: Instant) -> anyhow::Result<()> {
    // Unknown columns (once each, with their letter) and rows skipped as not households.
    for n in &report.notices {
        if n.kind == "ledger_unknown_column" {
            outln!(
                "unknown column {} {:?} in sheet {} (not imported)",
                n.column,
                n.text,
                n.sheet
            );
        } else {
            outln!("skipped: sheet {} row {}: {}", n.sheet, n.row, n.reason_zh);
        }
    }
    for sheet in &report.skipped_sheets {
        outln!("sheet {sheet:?} skipped: no header row");
    }
    if let Some(path) = &a.report {
        let text = serde_json::to_string_pretty(&report.to_json())?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        outln!("report written to {}", path.display());
    }
    for p in &report.problems {
        outln!(
            "{} row {} {}{}: {:?}: {} [{}]",
            p.sheet,
            p.row,
            p.column,
            if p.column_letter.is_empty() {
                String::new()
            } else {
                format!(" ({})", p.column_letter)
            },
            p.value,
            p.reason_en,
            p.kind
        );
    }
    if let (false, Some(path), Some(bytes)) = (
        report.problems.is_empty(),
        &a.errors,
        &report.error_workbook,
    ) {
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        outln!("error workbook written to {}", path.display());
    }
    outln!(
        "{} households read: {} valid, {} invalid; {} member rows: {} valid, {} invalid",
        report.households,
        report.valid_households,
        report.invalid_households,
        report.member_rows,
        report.valid_member_rows,
        report.invalid_member_rows,
    );
    if report.refused {
        bail!(
            "{} problems in {}; nothing was imported",
            report.problems.len(),
            a.file.display()
        );
    }
    if !report.held_back.is_empty() {
        outln!(
            "{} households held back (not imported): {}",
            report.held_back.len(),
            report.held_back.join(", ")
        );
    }
    outln!(
        "{}{} rows, {} households: {} new, {} changed, {} unchanged; {} events ({:.1} s, sha256 {})",
        if report.dry_run {
            "dry run (nothing written): "
        } else {
            "imported "
        },
        report.rows,
        report.households,
        report.created,
        report.changed,
        report.unchanged,
        report.events,
        started.elapsed().as_secs_f64(),
        &report.sha256[..16],
    );
    Ok(())
}
