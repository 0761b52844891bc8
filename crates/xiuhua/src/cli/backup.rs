//! `xiuhua backup`: the whole database into one SQLite file with a fingerprint of every table.

use std::path::PathBuf;

use indicatif::ProgressBar;
use xiuhua_app::CurrentUser;

use super::Cli;
use super::common::{cli_error, open, print_tables, table_progress};

/// Options of `xiuhua backup`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup file to create (never overwritten).
    out: PathBuf,
}

/// Writes the backup and prints its tables.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let pb = ProgressBar::new_spinner();
    let r =
        xiuhua_app::backup::backup(&s, &CurrentUser::system(), &a.out, &mut table_progress(&pb))
            .await
            .map_err(cli_error)?;
    pb.finish_and_clear();
    print_tables(&r.tables);
    outln!(
        "backup written to {} ({:.1} MB, {} rows, {:.1} s)",
        r.path.display(),
        r.bytes as f64 / 1e6,
        r.tables.iter().map(|t| t.rows).sum::<i64>(),
        r.seconds
    );
    Ok(())
}
