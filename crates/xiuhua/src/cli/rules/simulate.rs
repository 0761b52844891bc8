//! `xiuhua rules simulate`: what-if with changed parameters; changes nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use xiuhua_app::CurrentUser;
use xiuhua_app::rules::Simulation;

use crate::cli::Cli;
use crate::cli::common::{cli_error, open, progress_bar};

/// Options of `xiuhua rules simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule-set id.
    id: String,
    /// A changed parameter, `name=value` (repeatable), e.g. `--set line=7000`.
    #[arg(long = "set", required = true)]
    set: Vec<String>,
    /// Region code (default: everything).
    #[arg(long)]
    region: Option<String>,
    /// Data as of the end of this date (default: now).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Write the village summary and the list of changed households to this .xlsx.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Simulates as the system user, prints who would enter or leave, and writes `--out`.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let mut overrides = BTreeMap::new();
    for kv in &a.set {
        let Some((k, v)) = xiuhua_app::rules::parse_override(kv) else {
            bail!("--set {kv}: expected name=value");
        };
        overrides.insert(k, v);
    }
    let total = xiuhua_app::setup::household_total(&s).await?;
    let pb = progress_bar(total as u64, "模拟");
    let sim = xiuhua_app::rules::simulate(
        &s,
        &CurrentUser::system(),
        &a.id,
        a.region.as_deref(),
        a.as_of,
        overrides,
        &|n| pb.set_position(n as u64),
    )
    .await
    .map_err(cli_error)?;
    pb.finish_and_clear();
    print_simulation(&sim);
    if let Some(out) = &a.out {
        let bytes = xiuhua_app::rules::simulation_xlsx(&sim).map_err(cli_error)?;
        std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
        outln!("written to {}", out.display());
    }
    Ok(())
}

/// The totals, then who enters and leaves per township.
fn print_simulation(sim: &Simulation) {
    let entered: i64 = sim.villages.iter().map(|v| v.entered).sum();
    let left: i64 = sim.villages.iter().map(|v| v.left).sum();
    outln!(
        "{} v{} with {:?} as of {}: {} households; holds {} → {} ({} enter, {} leave) in {:.1} s",
        sim.set_id,
        sim.version,
        sim.overrides,
        sim.as_of,
        sim.before.units,
        sim.before.holds,
        sim.after.holds,
        entered,
        left,
        sim.seconds
    );
    let mut by_township: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for v in &sim.villages {
        let e = by_township
            .entry(v.code.get(..9).unwrap_or("").to_string())
            .or_default();
        e.0 += v.entered;
        e.1 += v.left;
    }
    for (t, (e, l)) in by_township.iter().filter(|(_, (e, l))| e + l > 0) {
        outln!("  township {t}: {e} enter, {l} leave");
    }
}
