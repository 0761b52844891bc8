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
        &cli.data_dir,
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

/// Loads a demo county with a progress bar, prints what was loaded and writes the demo
/// accounts' passwords to `demo-users.txt` in `data_dir` (beside
/// `initial-admin-password.txt`).
pub(crate) async fn load(
    s: &Services,
    data_dir: &std::path::Path,
    spec: DemoSpec,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let pb = progress_bar(spec.households as u64, "生成演示县");
    let stats = xiuhua_app::demo::load_complete(s, &spec, &|done, _| pb.set_position(done)).await?;
    pb.finish_and_clear();
    outln!(
        "demo county loaded: {} regions, {} households, {} members, {} events in {:.1} s",
        stats.regions,
        stats.households,
        stats.members,
        stats.events,
        started.elapsed().as_secs_f64()
    );
    let x = &stats.extras;
    std::fs::create_dir_all(data_dir).ok();
    if let Some(pw) = &x.admin_password {
        let note = data_dir.join("initial-admin-password.txt");
        std::fs::write(&note, format!("admin\n{pw}\n"))?;
        outln!("首次运行：已创建管理员账号 admin，密码 {pw}");
        outln!(
            "first run: created user `admin` with password {pw} (also saved to {})",
            note.display()
        );
    }
    let mut note = String::from(
        "# 演示县账号 demo accounts (username, role, region, password); admin: initial-admin-password.txt\n",
    );
    for u in &x.users {
        note.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            u.username,
            u.role.as_str(),
            u.region_code,
            u.password
        ));
    }
    if let Some((name, secret)) = &x.token {
        note.push_str(&format!(
            "# 部门推送令牌 department push token ({name})\n{secret}\n"
        ));
    }
    let path = data_dir.join("demo-users.txt");
    std::fs::write(&path, note)?;
    outln!(
        "{} accounts of every role (passwords in {}), {} department rows pushed, years {} closed",
        x.users.len(),
        path.display(),
        x.pushed_rows,
        match (x.closed_years.first(), x.closed_years.last()) {
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => "none".into(),
        }
    );
    for r in &x.runs {
        outln!(
            "stored run {} as of {}: {} units, {} hold, {} do not, {} unknown",
            r.set_id,
            r.as_of,
            r.total.units,
            r.total.holds,
            r.total.fails,
            r.total.unknowns
        );
    }
    Ok(())
}
