//! `xiuhua verify-backup`: a backup file's integrity and fingerprints.

use std::path::PathBuf;

use anyhow::bail;

use super::common::{cli_error, print_tables};

/// Options of `xiuhua verify-backup`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup file.
    file: PathBuf,
}

/// Prints the backup's information and tables; fails on any problem.
pub(crate) async fn run(a: &Args) -> anyhow::Result<()> {
    let file = &a.file;
    let r = xiuhua_app::backup::verify(file).await.map_err(cli_error)?;
    for (k, v) in &r.info {
        outln!("{k}: {v}");
    }
    print_tables(&r.tables);
    if !r.ok() {
        for p in &r.problems {
            outln!("PROBLEM: {p}");
        }
        bail!("{} failed verification", file.display());
    }
    outln!(
        "{}: integrity ok, every table matches its fingerprint",
        file.display()
    );
    Ok(())
}
