//! `xiuhua import-regions`: import a region-code CSV, all rows or none.

use std::path::PathBuf;

use xiuhua_app::CurrentUser;

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua import-regions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The CSV file.
    file: PathBuf,
}

/// Imports the file as the system user.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let rows = xiuhua_app::regions::parse_region_file(&a.file).map_err(cli_error)?;
    let n = xiuhua_app::regions::import_regions(&s, &CurrentUser::system(), &rows)
        .await
        .map_err(cli_error)?;
    outln!("imported {n} regions from {}", a.file.display());
    Ok(())
}
