//! `xiuhua restore`: replace the database with a backup, atomically and checked.

use std::path::PathBuf;

use anyhow::Context;
use indicatif::ProgressBar;

use super::Cli;
use super::common::{cli_error, print_tables, redact, table_progress};

/// Options of `xiuhua restore`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup file.
    file: PathBuf,
    /// Replace a database that already holds households or users.
    #[arg(long)]
    force: bool,
}

/// Restores into the database of the global options (which need not hold services yet).
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let url = cli.url()?;
    let db = xiuhua_app::setup::open_database(&url, 4)
        .await
        .with_context(|| format!("cannot open database {}", redact(&url)))?;
    let pb = ProgressBar::new_spinner();
    let r = xiuhua_app::backup::restore(&db, &a.file, a.force, &mut table_progress(&pb))
        .await
        .map_err(cli_error)?;
    pb.finish_and_clear();
    print_tables(&r.tables);
    outln!(
        "restored {} rows from {} into {} in {:.1} s; the result matches the backup's fingerprints",
        r.tables.iter().map(|t| t.rows).sum::<i64>(),
        a.file.display(),
        redact(&url),
        r.seconds
    );
    Ok(())
}
