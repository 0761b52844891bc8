//! `xiuhua export-stats`: the standard statistics tables of a region (.xlsx).

use std::path::PathBuf;

use anyhow::Context;
use xiuhua_app::CurrentUser;

use super::Cli;
use super::common::{RegionAsOf, cli_error, open};

/// Options of `xiuhua export-stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output file.
    out: PathBuf,
    #[command(flatten)]
    at: RegionAsOf,
}

/// Writes the workbook as the system user.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let bytes = xiuhua_app::exports::export_statistics(
        &s,
        &CurrentUser::system(),
        Some(&a.at.region),
        a.at.as_of,
    )
    .await
    .map_err(cli_error)?;
    std::fs::write(&a.out, bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    outln!("statistics written to {}", a.out.display());
    Ok(())
}
