//! `xiuhua close-year`: close a year's 年度动态调整 for a county.

use xiuhua_app::CurrentUser;

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua close-year`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// County code.
    #[arg(long)]
    county: String,
    /// Year to close.
    #[arg(long)]
    year: i32,
}

/// Closes the year as the system user.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let n = xiuhua_app::registry::close_year(&s, &CurrentUser::system(), &a.county, a.year)
        .await
        .map_err(cli_error)?;
    outln!(
        "closed year {} for county {}; snapshot has {n} rows",
        a.year,
        a.county
    );
    Ok(())
}
