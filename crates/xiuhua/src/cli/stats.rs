//! `xiuhua stats`: households and people by status for a region, now or as of a date.

use std::time::Instant;

use xiuhua_app::CurrentUser;
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use super::Cli;
use super::common::{RegionAsOf, cli_error, open};

/// Options of `xiuhua stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    at: RegionAsOf,
}

/// Prints the counts and the query time.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let started = Instant::now();
    let a = &a.at;
    let v = xiuhua_app::registry::region(&s, &CurrentUser::system(), &a.region, a.as_of)
        .await
        .map_err(cli_error)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let when = a
        .as_of
        .map(|d| format!("as of {d}"))
        .unwrap_or_else(|| "now".into());
    outln!(
        "{} {} ({when}): {} households, {} people",
        v.region.code,
        v.region.name,
        v.counts.total.households,
        v.counts.total.people
    );
    let by_status = RegistryStatus::ALL
        .into_iter()
        .map(|st| (st.as_str(), v.counts.status(st)));
    let by_monitoring = MonitoringStatus::ALL
        .into_iter()
        .map(|m| (m.as_str(), v.counts.monitoring(m)));
    for (label, t) in by_status.chain(by_monitoring) {
        outln!(
            "  {label:<10} {:>8} households {:>9} people",
            t.households,
            t.people
        );
    }
    outln!("query_ms={ms:.1}");
    Ok(())
}
