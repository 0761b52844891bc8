//! `xiuhua rules load`: store a new version of a rule set (it then applies).

use std::path::PathBuf;

use xiuhua_app::CurrentUser;

use super::read;
use crate::cli::Cli;
use crate::cli::common::{cli_error, open};

/// Options of `xiuhua rules load`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule-set file.
    file: PathBuf,
}

/// Loads the file as the system user.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let set = xiuhua_app::rules::load(
        &s,
        &CurrentUser::system(),
        &a.file.display().to_string(),
        &read(&a.file)?,
    )
    .await
    .map_err(cli_error)?;
    outln!(
        "loaded {} v{} ({} items); it is now in force",
        set.def.id,
        set.def.version,
        set.items.len()
    );
    Ok(())
}
