//! `xiuhua import-codes`: import code-list additions from a tab-separated file.

use std::path::PathBuf;

use anyhow::Context;

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua import-codes`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file.
    file: PathBuf,
}

/// Imports the codes.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let n = xiuhua_app::codes::import_tsv(&s, &text)
        .await
        .map_err(cli_error)?;
    outln!("imported {n} codes from {}", a.file.display());
    Ok(())
}
