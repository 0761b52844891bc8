//! `xiuhua stats`: households and people by status for a region, now or as of a date.

use std::time::Instant;

use chrono::NaiveDate;
use xiuhua_app::CurrentUser;
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Region code.
    #[arg(long)]
    region: String,
    /// Count as of the end of this date.
    #[arg(long)]
    as_of: Option<NaiveDate>,
}

/// Prints the counts and the query time.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let started = Instant::now();
    let v = xiuhua_app::registry::region(&s, &CurrentUser::system(), &a.region, a.as_of)
        .await
        .map_err(cli_error)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let when = a
        .as_of
        .map(|d| format!("as of {d}"))
        .unwrap_or_else(|| "now".into());
    println!(
        "{} {} ({when}): {} households, {} people",
        v.region.code, v.region.name, v.counts.total.households, v.counts.total.people
    );
    for st in RegistryStatus::ALL {
        let t = v.counts.status(st);
        println!(
            "  {:<8} {:>8} households {:>9} people",
            st.as_str(),
            t.households,
            t.people
        );
    }
    for m in MonitoringStatus::ALL {
        let t = v.counts.monitoring(m);
        println!(
            "  {:<10} {:>8} households {:>9} people",
            m.as_str(),
            t.households,
            t.people
        );
    }
    println!("query_ms={ms:.1}");
    Ok(())
}
