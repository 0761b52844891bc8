//! `xiuhua rules …`: check, load, list, show, evaluate, run and simulate rule sets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use xiuhua_app::rules::{Checklist, RunSummary};
use xiuhua_app::{CurrentUser, Services};

use crate::cli::{Args, cli_error, open, progress_bar};

/// Rule-set subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check rule-set files (or every .toml in a directory) without loading them.
    Check {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Load a new version of a rule set into the database (it then applies).
    Load {
        /// The rule-set file.
        file: PathBuf,
    },
    /// List the rule sets in force.
    List,
    /// Show a rule set's parameters, items and version history.
    Show {
        /// Rule-set id.
        id: String,
        /// Version (default: the one in force).
        #[arg(long)]
        version: Option<i64>,
    },
    /// Evaluate every applicable household rule set for one household, with explanations.
    Eval {
        /// Household id, or 户编号 together with --county.
        household: String,
        /// County of the 户编号.
        #[arg(long, default_value = xiuhua_app::demo::COUNTY_CODE)]
        county: String,
        /// Take the household as of the end of this date (default: now).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Values for declared inputs, as JSON: '{"owns_car": false}'.
        #[arg(long)]
        facts: Option<String>,
    },
    /// Apply a rule set to every household (or village, or county) of a region.
    Run {
        /// Rule-set id.
        id: String,
        /// Region code (default: everything).
        #[arg(long)]
        region: Option<String>,
        /// Data as of the end of this date (default: now).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Store the results (with the rule-set version and the as-of date).
        #[arg(long)]
        store: bool,
    },
    /// What-if: apply a rule set with changed parameters next to the one in force, and report
    /// who would enter or leave. Changes nothing.
    Simulate {
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
    },
}

fn rule_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn read(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
}

fn print_checklist(c: &Checklist) {
    let score = c.score.map(|s| format!("，总分 {s}")).unwrap_or_default();
    let flag = if c.unconfirmed {
        "（含未经证实的标准值）"
    } else {
        ""
    };
    println!(
        "\n{} v{} [{}] 截至 {}：{}{score}{flag}",
        c.name, c.version, c.purpose_zh, c.as_of, c.decision_zh
    );
    for i in &c.items {
        let pts = i.points.map(|p| format!(" {p}分")).unwrap_or_default();
        println!(
            "  {:<6} {:<4} {}{pts}  {}  — {}",
            i.outcome_zh, i.kind_zh, i.label, i.code, i.explain
        );
    }
}

fn print_summary(r: &RunSummary) {
    let t = &r.total;
    println!(
        "{} v{} over {} as of {}: {} units, {} hold, {} do not, {} unknown ({:.1} s, {:.0} units/s){}",
        r.set_id,
        r.version,
        if r.region.is_empty() {
            "all regions"
        } else {
            &r.region
        },
        r.as_of,
        t.units,
        t.holds,
        t.fails,
        t.unknowns,
        r.seconds,
        t.units as f64 / r.seconds.max(1e-9),
        r.run_id
            .map(|id| format!("; stored as run {id}"))
            .unwrap_or_default()
    );
    println!("  item                              pass      fail   unknown");
    for i in &r.items {
        println!(
            "  {:<30} {:>9} {:>9} {:>9}",
            i.code, i.pass, i.fail, i.unknown
        );
    }
}

/// Runs a rules subcommand.
pub async fn run(args: &Args, cmd: &RulesCommand) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Check { paths } => {
            let mut bad = 0;
            let files = rule_files(paths)?;
            for f in &files {
                match xiuhua_app::rules::check(&f.display().to_string(), &read(f)?) {
                    Ok(set) => println!(
                        "ok   {} ({} v{}, {} items)",
                        f.display(),
                        set.def.id,
                        set.def.version,
                        set.items.len()
                    ),
                    Err(e) => {
                        bad += 1;
                        println!("FAIL {}\n     {}\n     {e}", f.display(), e.to_zh());
                    }
                }
            }
            if bad > 0 {
                bail!("{bad} of {} rule files refused", files.len());
            }
        }
        RulesCommand::Load { file } => {
            let s = open(args).await?;
            let set = xiuhua_app::rules::load(
                &s,
                &CurrentUser::system(),
                &file.display().to_string(),
                &read(file)?,
            )
            .await
            .map_err(cli_error)?;
            println!(
                "loaded {} v{} ({} items); it is now in force",
                set.def.id,
                set.def.version,
                set.items.len()
            );
        }
        RulesCommand::List => {
            let s = open(args).await?;
            for set in s.rules().current() {
                println!(
                    "{:<28} v{:<3} {:<9} {:<14} region {:<6} years {:?}  {}{}",
                    set.def.id,
                    set.def.version,
                    set.def.level.as_str(),
                    set.def.purpose.as_str(),
                    if set.def.region.is_empty() {
                        "全国"
                    } else {
                        &set.def.region
                    },
                    set.def.years,
                    set.def.name,
                    if set.def.unconfirmed {
                        "（未证实）"
                    } else {
                        ""
                    }
                );
            }
        }
        RulesCommand::Show { id, version } => {
            let s = open(args).await?;
            let book = s.rules();
            let Some(set) = book.get(id, *version) else {
                bail!("no rule set {id}");
            };
            println!("{} v{} — {}", set.def.id, set.def.version, set.def.name);
            println!("source: {}", set.def.source);
            for (name, p) in &set.def.params {
                println!(
                    "param {name} ({}): value {:?} by year {:?}{}",
                    p.label,
                    p.value,
                    p.by_year,
                    if p.unconfirmed { " [unconfirmed]" } else { "" }
                );
            }
            for it in &set.items {
                println!(
                    "  {:<28} {:<9} {}\n      {}",
                    it.def.code,
                    it.def.kind.as_str(),
                    it.def.label,
                    it.def.expr.trim()
                );
            }
            for v in book.history(id) {
                println!(
                    "version {} loaded by {} at {} ({})",
                    v.version, v.loaded_by, v.loaded_at, v.origin
                );
            }
        }
        RulesCommand::Eval {
            household,
            county,
            as_of,
            facts,
        } => {
            let s = open(args).await?;
            let id = household_id(&s, household, county).await?;
            let inputs: BTreeMap<String, serde_json::Value> = match facts {
                Some(j) => serde_json::from_str(j).context("--facts must be a JSON object")?,
                None => BTreeMap::new(),
            };
            let lists = xiuhua_app::rules::household_checklists(
                &s,
                &CurrentUser::system(),
                id,
                *as_of,
                &inputs,
            )
            .await
            .map_err(cli_error)?;
            println!("household {id}: {} rule sets apply", lists.len());
            for c in &lists {
                print_checklist(c);
            }
        }
        RulesCommand::Run {
            id,
            region,
            as_of,
            store,
        } => {
            let s = open(args).await?;
            let total = xiuhua_db::households::total(
                &mut *s.db.acquire().await.map_err(|e| anyhow::anyhow!("{e}"))?,
            )
            .await?;
            let pb = progress_bar(total as u64, "评估");
            let r = xiuhua_app::rules::run(
                &s,
                &CurrentUser::system(),
                id,
                region.as_deref(),
                *as_of,
                *store,
                &|n| pb.set_position(n as u64),
            )
            .await
            .map_err(cli_error)?;
            pb.finish_and_clear();
            print_summary(&r);
        }
        RulesCommand::Simulate {
            id,
            set,
            region,
            as_of,
            out,
        } => {
            let s = open(args).await?;
            let mut overrides = BTreeMap::new();
            for kv in set {
                let Some((k, v)) = xiuhua_app::rules::parse_override(kv) else {
                    bail!("--set {kv}: expected name=value");
                };
                overrides.insert(k, v);
            }
            let total = xiuhua_db::households::total(
                &mut *s.db.acquire().await.map_err(|e| anyhow::anyhow!("{e}"))?,
            )
            .await?;
            let pb = progress_bar(total as u64, "模拟");
            let sim = xiuhua_app::rules::simulate(
                &s,
                &CurrentUser::system(),
                id,
                region.as_deref(),
                *as_of,
                overrides,
                &|n| pb.set_position(n as u64),
            )
            .await
            .map_err(cli_error)?;
            pb.finish_and_clear();
            let entered: i64 = sim.villages.iter().map(|v| v.entered).sum();
            let left: i64 = sim.villages.iter().map(|v| v.left).sum();
            println!(
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
                println!("  township {t}: {e} enter, {l} leave");
            }
            if let Some(out) = out {
                let bytes = xiuhua_app::rules::simulation_xlsx(&s, &sim).map_err(cli_error)?;
                std::fs::write(out, bytes)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                println!("written to {}", out.display());
            }
        }
    }
    Ok(())
}

async fn household_id(s: &Services, household: &str, county: &str) -> anyhow::Result<i64> {
    let mut conn = s.db.acquire().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(h) = xiuhua_db::households::find_by_no(&mut conn, county, household).await? {
        return Ok(h.id);
    }
    match household.parse::<i64>() {
        Ok(id) => Ok(id),
        Err(_) => bail!("no household {household} in county {county}"),
    }
}
