//! `xiuhua export`: the registry of a region as a ledger (.xlsx or .csv by the file name).

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use indicatif::ProgressBar;
use xiuhua_app::CurrentUser;
use xiuhua_app::exports::{ExportFormat, RegistryExport};

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output file.
    out: PathBuf,
    /// Region code (default: everything).
    #[arg(long)]
    region: Option<String>,
    /// Export the registry as it stood at the end of this date.
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Why the data leaves the system (用途); written to the access log. Required: the
    /// export carries full identity numbers.
    #[arg(long)]
    purpose: String,
}

/// Writes the export as the system user.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let format = if a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        ExportFormat::Csv
    } else {
        ExportFormat::Xlsx
    };
    let started = Instant::now();
    let pb = ProgressBar::new_spinner();
    let rows = xiuhua_app::exports::export_registry(
        &s,
        &CurrentUser::system(),
        &RegistryExport {
            region: a.region.as_deref(),
            as_of: a.as_of,
            format,
            purpose: &a.purpose,
        },
        &a.out,
        &|n| pb.set_position(n as u64),
    )
    .await
    .map_err(cli_error)?;
    pb.finish_and_clear();
    outln!(
        "exported {rows} member rows to {} in {:.1} s",
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
