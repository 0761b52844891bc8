//! `xiuhua demo`: generate the demo county (modelled on 都安) into an empty registry.

use std::time::Instant;

use chrono::NaiveDate;
use xiuhua_app::Services;
use xiuhua_app::demo::{DEFAULT_HOUSEHOLDS, DemoSpec};

use super::Cli;
use super::common::{open, progress_bar};

/// Options of `xiuhua demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// County to fill. Its townships and villages are used if already imported
    /// (import-regions); for 451228 (都安) they are generated when absent.
    #[arg(long, default_value = xiuhua_app::demo::COUNTY_CODE)]
    county: String,
    /// Random seed; the same seed gives the same county.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Number of households (≈4.3 people each).
    #[arg(long, default_value_t = DEFAULT_HOUSEHOLDS)]
    households: usize,
    /// Households per transaction.
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Date the generated history runs up to (default: today).
    #[arg(long)]
    today: Option<NaiveDate>,
}

/// Loads the demo county as asked.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let today = a.today.unwrap_or_else(|| s.clock.today());
    load(
        &s,
        DemoSpec {
            county: a.county.clone(),
            seed: a.seed,
            households: a.households,
            today,
            batch: a.batch,
        },
    )
    .await
}

/// Loads a demo county with a progress bar and prints what was loaded.
pub(crate) async fn load(s: &Services, spec: DemoSpec) -> anyhow::Result<()> {
    let started = Instant::now();
    let pb = progress_bar(spec.households as u64, "生成演示县");
    let stats = xiuhua_app::demo::load(s, &spec, &|done, _| pb.set_position(done)).await?;
    pb.finish_and_clear();
    outln!(
        "demo county loaded: {} regions, {} households, {} members, {} events in {:.1} s",
        stats.regions,
        stats.households,
        stats.members,
        stats.events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
