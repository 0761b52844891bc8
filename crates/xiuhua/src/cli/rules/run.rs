//! `xiuhua rules run`: apply a rule set to every unit of a region, optionally storing the
//! results; declared inputs come from a CSV.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use xiuhua_app::CurrentUser;
use xiuhua_app::rules::{RunSummary, UnitInputs};

use crate::cli::Cli;
use crate::cli::common::{cli_error, open, progress_bar};

/// Options of `xiuhua rules run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule-set id.
    id: String,
    /// Region code (default: everything).
    #[arg(long)]
    region: Option<String>,
    /// Data as of the end of this date (default: now).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Store the results (with the rule-set version and the as-of date).
    #[arg(long)]
    store: bool,
    /// Values of declared inputs: a CSV (UTF-8 or GBK) whose first column is the 户编号 or
    /// region code and whose other columns are input names (是/否, true/false, numbers, text).
    #[arg(long)]
    facts: Option<PathBuf>,
}

/// Runs the rule set as the system user and prints the summary.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let inputs = match &a.facts {
        Some(f) => read_facts(f)?,
        None => Default::default(),
    };
    let s = open(cli).await?;
    let total = xiuhua_app::setup::household_total(&s).await?;
    let pb = progress_bar(total as u64, "评估");
    let r = xiuhua_app::rules::run(
        &s,
        &CurrentUser::system(),
        &a.id,
        a.region.as_deref(),
        a.as_of,
        a.store,
        &inputs,
        &|n| pb.set_position(n as u64),
    )
    .await
    .map_err(cli_error)?;
    pb.finish_and_clear();
    print_summary(&r);
    Ok(())
}

fn print_summary(r: &RunSummary) {
    let t = &r.total;
    outln!(
        "{} v{} over {} as of {}: {} units, {} hold, {} do not, {} unknown ({:.1} s, {:.0} units/s){}",
        r.set_id,
        r.version,
        if r.region.is_empty() {
            "all regions"
        } else {
            &r.region
        },
        r.as_of,
        t.units,
        t.holds,
        t.fails,
        t.unknowns,
        r.seconds,
        t.units as f64 / r.seconds.max(1e-9),
        r.run_id
            .map(|id| format!("; stored as run {id}"))
            .unwrap_or_default()
    );
    outln!("  item                              pass      fail   unknown");
    for i in &r.items {
        outln!(
            "  {:<30} {:>9} {:>9} {:>9}",
            i.code,
            i.pass,
            i.fail,
            i.unknown
        );
    }
}

/// Reads an inputs file: first column the unit (户编号 or region code), then one column per input.
fn read_facts(path: &Path) -> anyhow::Result<UnitInputs> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}').to_string(),
        Err(_) => encoding_rs::GB18030.decode(&bytes).0.into_owned(),
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
    if header.len() < 2 {
        bail!(
            "{}: needs a unit column and at least one input column",
            path.display()
        );
    }
    let mut out = UnitInputs::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let unit = rec.get(0).unwrap_or("").trim().to_string();
        if unit.is_empty() {
            bail!(
                "{}: row {}: the first column (户编号 or region code) is empty",
                path.display(),
                i + 2
            );
        }
        let mut values = BTreeMap::new();
        for (name, v) in header.iter().zip(rec.iter()).skip(1) {
            if let Some(value) = input_value(v.trim()) {
                values.insert(name.clone(), value);
            }
        }
        out.insert(unit, values);
    }
    Ok(out)
}

/// One cell of an inputs file as a value: nothing when empty, 是/否 and the like as booleans,
/// numbers as numbers, anything else as text.
fn input_value(v: &str) -> Option<serde_json::Value> {
    Some(match v {
        "" => return None,
        "是" | "true" | "TRUE" | "有" => serde_json::Value::Bool(true),
        "否" | "false" | "FALSE" | "无" => serde_json::Value::Bool(false),
        _ => match (v.parse::<i64>(), v.parse::<f64>()) {
            (Ok(n), _) => n.into(),
            (_, Ok(x)) => serde_json::Number::from_f64(x)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| v.into()),
            _ => v.into(),
        },
    })
}
