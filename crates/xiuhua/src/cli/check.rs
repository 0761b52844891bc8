//! `xiuhua check`: a county's stored registry against its event log.

use std::time::Instant;

use anyhow::bail;
use xiuhua_app::CurrentUser;

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// County code.
    #[arg(long, default_value = xiuhua_app::demo::COUNTY_CODE)]
    county: String,
}

/// Prints every problem; fails when there is one.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let county = &a.county;
    let s = open(cli).await?;
    let started = Instant::now();
    let r = xiuhua_app::check::check_county(&s, &CurrentUser::system(), county)
        .await
        .map_err(cli_error)?;
    for p in &r.problems {
        outln!("PROBLEM: {p}");
    }
    outln!(
        "checked {} households, {} events of county {county} in {:.1} s: {} problems",
        r.households,
        r.events,
        started.elapsed().as_secs_f64(),
        r.problems.len()
    );
    if !r.problems.is_empty() {
        bail!("county {county} is not consistent");
    }
    Ok(())
}
