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
        /// Values of declared inputs: a CSV (UTF-8 or GBK) whose first column is the 户编号 or
        /// region code and whose other columns are input names (是/否, true/false, numbers, text).
        #[arg(long)]
        facts: Option<PathBuf>,
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
    /// Benchmark: evaluate every shipped household exit, monitoring and quality rule set over
    /// generated households (no database), and write the same data and the same predicates as
    /// SQL for a peer (bench/rules runs DuckDB on them).
    Bench {
        /// Number of generated households.
        #[arg(long, default_value_t = 1_000_000)]
        households: usize,
        /// Random seed of the demo generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Directory for households.csv, members.csv, schema.tsv and predicates.tsv (omit: no files).
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
        RulesCommand::Bench {
            households,
            seed,
            out,
        } => bench(*households, *seed, out.as_deref())?,
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
            facts,
        } => {
            let inputs = match facts {
                Some(f) => read_facts(f)?,
                None => Default::default(),
            };
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
                &inputs,
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

/// Writes one CSV field: empty for unknown, lists joined with '|'.
fn csv_field(v: &xiuhua_rules::Val<'_>) -> String {
    use xiuhua_rules::Val;
    match v {
        Val::Unknown | Val::Members(_) | Val::Member(_) => String::new(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Double(d) => format!("{d:?}"),
        Val::Str(s) => s.to_string(),
        Val::StrSlice(l) => l.join("|"),
        Val::List(l) => l.iter().map(csv_field).collect::<Vec<_>>().join("|"),
    }
}

fn sql_type(t: xiuhua_rules::Ty) -> &'static str {
    use xiuhua_rules::Ty;
    match t {
        Ty::Bool => "BOOLEAN",
        Ty::Int => "BIGINT",
        Ty::Double => "DOUBLE",
        Ty::Str => "VARCHAR",
        Ty::List(_) | Ty::Member => "VARCHAR[]",
    }
}

/// `xiuhua rules bench`.
pub fn bench(households: usize, seed: u64, out: Option<&Path>) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::time::{Duration, Instant};
    use xiuhua_rules::schema::{HOUSEHOLD_VARS, MEMBER_VARS, MEMBERS_SLOT};
    use xiuhua_rules::{Facts, Level, Outcome, Purpose};

    let on = NaiveDate::from_ymd_opt(2025, 12, 31).context("date")?;
    let sets: Vec<xiuhua_rules::RuleSet> = xiuhua_rules::shipped()
        .map_err(|e| anyhow::anyhow!("{}", e.to_zh()))?
        .into_iter()
        .filter(|s| {
            s.def.level == Level::Household
                && matches!(
                    s.def.purpose,
                    Purpose::Exit | Purpose::Monitoring | Purpose::Quality
                )
        })
        .collect();
    // Each set with the parameters of its own last year (open-ended sets: 2025 or later).
    let params: Vec<xiuhua_rules::ParamValues> = sets
        .iter()
        .map(|s| {
            let year = match s.def.years.as_slice() {
                [a, b] => (*b).min((*a).max(2025)),
                [a] => (*a).max(2025),
                _ => 2025,
            };
            s.params_for(year, &BTreeMap::new())
        })
        .collect();
    let exprs: usize = sets.iter().map(|s| s.items.len()).sum();
    let mut counts: Vec<Vec<[u64; 3]>> = sets.iter().map(|s| vec![[0; 3]; s.items.len()]).collect();
    let mut files = match out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let h = std::io::BufWriter::new(std::fs::File::create(dir.join("households.csv"))?);
            let m = std::io::BufWriter::new(std::fs::File::create(dir.join("members.csv"))?);
            Some((csv::Writer::from_writer(h), csv::Writer::from_writer(m)))
        }
        None => None,
    };
    if let Some((h, m)) = files.as_mut() {
        let mut head = vec!["hid"];
        head.extend(
            HOUSEHOLD_VARS
                .iter()
                .filter(|v| v.name != "members")
                .map(|v| v.name),
        );
        h.write_record(&head)?;
        let mut head = vec!["hid"];
        head.extend(MEMBER_VARS.iter().map(|v| v.name));
        m.write_record(&head)?;
    }
    let (_, villages) = xiuhua_app::demo::regions(seed);
    let spec = xiuhua_app::demo::DemoSpec {
        county: xiuhua_app::demo::COUNTY_CODE.into(),
        seed,
        households,
        today: on,
        batch: 10_000,
    };
    let mut generator = xiuhua_app::demo::generate::Generator::new(&spec, villages);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let pb = progress_bar(households as u64, "评估");
    let mut eval_time = Duration::ZERO;
    let mut gen_time = Duration::ZERO;
    let mut done = 0usize;
    let mut members_total = 0usize;
    let mut hid = 0i64;
    while done < households {
        let n = (households - done).min(10_000);
        let t = Instant::now();
        let batch = generator.batch(n)?;
        gen_time += t.elapsed();
        let states = batch.states;
        // Evaluation: facts from the state plus every item of every set, on all cores.
        let t = Instant::now();
        let size = states.len().div_ceil(threads).max(1);
        let no_inputs: Vec<Vec<xiuhua_rules::Val<'static>>> =
            sets.iter().map(|s| s.unknown_inputs()).collect();
        let partial: Vec<Vec<Vec<[u64; 3]>>> = std::thread::scope(|sc| {
            let handles: Vec<_> = states
                .chunks(size)
                .map(|chunk| {
                    let sets = &sets;
                    let params = &params;
                    let no_inputs = &no_inputs;
                    sc.spawn(move || {
                        let mut c: Vec<Vec<[u64; 3]>> =
                            sets.iter().map(|s| vec![[0; 3]; s.items.len()]).collect();
                        for st in chunk {
                            let facts = Facts::household(st, on);
                            for (si, set) in sets.iter().enumerate() {
                                let r = set.evaluate(&facts, &params[si], &no_inputs[si]);
                                for (ii, o) in r.items.iter().enumerate() {
                                    let k = match o.outcome {
                                        Outcome::Pass => 0,
                                        Outcome::Fail => 1,
                                        Outcome::Unknown => 2,
                                    };
                                    c[si][ii][k] += 1;
                                }
                            }
                        }
                        c
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        eval_time += t.elapsed();
        for c in partial {
            for (si, items) in c.into_iter().enumerate() {
                for (ii, k) in items.into_iter().enumerate() {
                    for j in 0..3 {
                        counts[si][ii][j] += k[j];
                    }
                }
            }
        }
        if let Some((h, m)) = files.as_mut() {
            for st in &states {
                hid += 1;
                let facts = Facts::household(st, on);
                let mut rec = vec![hid.to_string()];
                rec.extend(
                    facts
                        .slots
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != MEMBERS_SLOT)
                        .map(|(_, v)| csv_field(v)),
                );
                h.write_record(&rec)?;
                for mf in &facts.members {
                    let mut rec = vec![hid.to_string()];
                    rec.extend(mf.slots.iter().map(csv_field));
                    m.write_record(&rec)?;
                }
            }
        }
        members_total += states.iter().map(|s| s.members.len()).sum::<usize>();
        done += n;
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    let evals = done as f64 * exprs as f64;
    let secs = eval_time.as_secs_f64();
    println!(
        "xiuhua rules: {done} households, {members_total} members, {} rule sets, {exprs} expressions: {:.0} evaluations in {secs:.2} s = {:.0} evaluations/s ({:.0} households/s, {threads} threads); generation {:.1} s",
        sets.len(),
        evals,
        evals / secs.max(1e-9),
        done as f64 / secs.max(1e-9),
        gen_time.as_secs_f64()
    );
    if let (Some(dir), Some((mut h, mut m))) = (out, files) {
        h.flush()?;
        m.flush()?;
        let mut schema = std::io::BufWriter::new(std::fs::File::create(dir.join("schema.tsv"))?);
        writeln!(schema, "households\thid\tBIGINT")?;
        for v in HOUSEHOLD_VARS.iter().filter(|v| v.name != "members") {
            writeln!(schema, "households\t{}\t{}", v.name, sql_type(v.ty))?;
        }
        writeln!(schema, "members\thid\tBIGINT")?;
        for v in MEMBER_VARS {
            writeln!(schema, "members\t{}\t{}", v.name, sql_type(v.ty))?;
        }
        let mut preds = std::io::BufWriter::new(std::fs::File::create(dir.join("predicates.tsv"))?);
        let mut untranslated = 0;
        for (si, set) in sets.iter().enumerate() {
            for (ii, it) in set.items.iter().enumerate() {
                let [p, f, u] = counts[si][ii];
                match xiuhua_rules::sql::item_sql(set, ii, &params[si]) {
                    Some(sql) => writeln!(
                        preds,
                        "{}\t{}\t{p}\t{f}\t{u}\t{}",
                        set.def.id,
                        it.def.code,
                        sql.replace(['\t', '\n'], " ")
                    )?,
                    None => untranslated += 1,
                }
            }
        }
        println!(
            "wrote {} (households.csv, members.csv, schema.tsv, predicates.tsv: {} predicates, {untranslated} without an SQL translation)",
            dir.display(),
            exprs - untranslated
        );
    }
    Ok(())
}

/// Reads an inputs file: first column the unit (户编号 or region code), then one column per input.
fn read_facts(path: &Path) -> anyhow::Result<xiuhua_app::rules::UnitInputs> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}').to_string(),
        Err(_) => encoding_rs::GB18030.decode(&bytes).0.into_owned(),
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
    if header.len() < 2 {
        bail!(
            "{}: needs a unit column and at least one input column",
            path.display()
        );
    }
    let mut out = xiuhua_app::rules::UnitInputs::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let unit = rec.get(0).unwrap_or("").trim().to_string();
        if unit.is_empty() {
            bail!(
                "{}: row {}: the first column (户编号 or region code) is empty",
                path.display(),
                i + 2
            );
        }
        let mut values = BTreeMap::new();
        for (name, v) in header.iter().zip(rec.iter()).skip(1) {
            let v = v.trim();
            let value = match v {
                "" => continue,
                "是" | "true" | "TRUE" | "有" => serde_json::Value::Bool(true),
                "否" | "false" | "FALSE" | "无" => serde_json::Value::Bool(false),
                _ => match (v.parse::<i64>(), v.parse::<f64>()) {
                    (Ok(n), _) => n.into(),
                    (_, Ok(x)) => serde_json::Number::from_f64(x)
                        .map(serde_json::Value::Number)
                        .unwrap_or_else(|| v.into()),
                    _ => v.into(),
                },
            };
            values.insert(name.clone(), value);
        }
        out.insert(unit, values);
    }
    Ok(out)
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
