//! The rules harness (`xiuhua-bench rules`): every shipped household exit, monitoring and
//! quality rule set over households from the demo generator, evaluated on all cores (timed:
//! facts + evaluation only), with the same data written as CSV and every item translated to SQL
//! with xiuhua's pass/fail/unknown counts, for `bench/rules` to run DuckDB on and compare.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use xiuhua_domain::HouseholdState;
use xiuhua_rules::schema::{HOUSEHOLD_VARS, MEMBER_VARS, MEMBERS_SLOT};
use xiuhua_rules::{Facts, Level, Outcome, ParamValues, Purpose, RuleSet, Ty, Val};

/// Pass, fail and unknown counts of every item of every set (`[set][item][outcome]`).
type Counts = Vec<Vec<[u64; 3]>>;

/// The household rule sets measured, each with the parameters of its own last year
/// (open-ended sets: 2025 or later), and the inputs left unknown.
struct Sets {
    sets: Vec<RuleSet>,
    params: Vec<ParamValues>,
    no_inputs: Vec<Vec<Val<'static>>>,
}

impl Sets {
    fn shipped() -> anyhow::Result<Sets> {
        let sets: Vec<RuleSet> = xiuhua_rules::shipped()
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
        let params = sets
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
        let no_inputs = sets.iter().map(|s| s.unknown_inputs()).collect();
        Ok(Sets {
            sets,
            params,
            no_inputs,
        })
    }

    fn zero_counts(&self) -> Counts {
        self.sets
            .iter()
            .map(|s| vec![[0; 3]; s.items.len()])
            .collect()
    }

    /// Every item of every set over `states`, on `threads` threads.
    fn evaluate(&self, states: &[HouseholdState], on: NaiveDate, threads: usize) -> Vec<Counts> {
        let size = states.len().div_ceil(threads).max(1);
        std::thread::scope(|sc| {
            let handles: Vec<_> = states
                .chunks(size)
                .map(|chunk| sc.spawn(move || self.evaluate_chunk(chunk, on)))
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        })
    }

    fn evaluate_chunk(&self, chunk: &[HouseholdState], on: NaiveDate) -> Counts {
        let mut c = self.zero_counts();
        for st in chunk {
            let facts = Facts::household(st, on);
            for (si, set) in self.sets.iter().enumerate() {
                let r = set.evaluate(&facts, &self.params[si], &self.no_inputs[si]);
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
    }
}

/// Adds the counts of one thread to the totals.
fn add(counts: &mut Counts, partial: Counts) {
    for (si, items) in partial.into_iter().enumerate() {
        for (ii, k) in items.into_iter().enumerate() {
            for j in 0..3 {
                counts[si][ii][j] += k[j];
            }
        }
    }
}

/// `households.csv` and `members.csv` being written.
struct CsvFiles {
    households: csv::Writer<BufWriter<File>>,
    members: csv::Writer<BufWriter<File>>,
    hid: i64,
}

impl CsvFiles {
    fn create(dir: &Path) -> anyhow::Result<CsvFiles> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let h = BufWriter::new(File::create(dir.join("households.csv"))?);
        let m = BufWriter::new(File::create(dir.join("members.csv"))?);
        let mut files = CsvFiles {
            households: csv::Writer::from_writer(h),
            members: csv::Writer::from_writer(m),
            hid: 0,
        };
        let mut head = vec!["hid"];
        head.extend(
            HOUSEHOLD_VARS
                .iter()
                .filter(|v| v.name != "members")
                .map(|v| v.name),
        );
        files.households.write_record(&head)?;
        let mut head = vec!["hid"];
        head.extend(MEMBER_VARS.iter().map(|v| v.name));
        files.members.write_record(&head)?;
        Ok(files)
    }

    /// One row per household and one per member, with the facts the evaluator saw.
    fn write(&mut self, states: &[HouseholdState], on: NaiveDate) -> anyhow::Result<()> {
        for st in states {
            self.hid += 1;
            let facts = Facts::household(st, on);
            let mut rec = vec![self.hid.to_string()];
            rec.extend(
                facts
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != MEMBERS_SLOT)
                    .map(|(_, v)| csv_field(v)),
            );
            self.households.write_record(&rec)?;
            for mf in &facts.members {
                let mut rec = vec![self.hid.to_string()];
                rec.extend(mf.slots.iter().map(csv_field));
                self.members.write_record(&rec)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.households.flush()?;
        self.members.flush()?;
        Ok(())
    }
}

/// Writes one CSV field: empty for unknown, lists joined with '|'.
fn csv_field(v: &Val<'_>) -> String {
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

fn sql_type(t: Ty) -> &'static str {
    match t {
        Ty::Bool => "BOOLEAN",
        Ty::Int => "BIGINT",
        Ty::Double => "DOUBLE",
        Ty::Str => "VARCHAR",
        Ty::List(_) | Ty::Member => "VARCHAR[]",
    }
}

/// `schema.tsv` (table, column, DuckDB type).
fn write_schema(dir: &Path) -> anyhow::Result<()> {
    let mut schema = BufWriter::new(File::create(dir.join("schema.tsv"))?);
    writeln!(schema, "households\thid\tBIGINT")?;
    for v in HOUSEHOLD_VARS.iter().filter(|v| v.name != "members") {
        writeln!(schema, "households\t{}\t{}", v.name, sql_type(v.ty))?;
    }
    writeln!(schema, "members\thid\tBIGINT")?;
    for v in MEMBER_VARS {
        writeln!(schema, "members\t{}\t{}", v.name, sql_type(v.ty))?;
    }
    schema.flush()?;
    Ok(())
}

/// `predicates.tsv` (set, item, pass, fail, unknown, SQL); returns how many items have no
/// translation.
fn write_predicates(dir: &Path, sets: &Sets, counts: &Counts) -> anyhow::Result<usize> {
    let mut preds = BufWriter::new(File::create(dir.join("predicates.tsv"))?);
    let mut untranslated = 0;
    for (si, set) in sets.sets.iter().enumerate() {
        for (ii, it) in set.items.iter().enumerate() {
            let [p, f, u] = counts[si][ii];
            match crate::sql::item_sql(set, ii, &sets.params[si]) {
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
    preds.flush()?;
    Ok(untranslated)
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, 剩余 {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb
}

/// Runs the benchmark over `households` generated households (seed `seed`) and prints the
/// figures; with `out`, writes households.csv, members.csv, schema.tsv and predicates.tsv there.
pub fn bench(households: usize, seed: u64, out: Option<&Path>) -> anyhow::Result<()> {
    let on = NaiveDate::from_ymd_opt(2025, 12, 31).context("date")?;
    let sets = Sets::shipped()?;
    let exprs: usize = sets.sets.iter().map(|s| s.items.len()).sum();
    let mut counts = sets.zero_counts();
    let mut files = out.map(CsvFiles::create).transpose()?;
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
    let (mut eval_time, mut gen_time) = (Duration::ZERO, Duration::ZERO);
    let (mut done, mut members_total) = (0usize, 0usize);
    while done < households {
        let n = (households - done).min(10_000);
        let t = Instant::now();
        let states = generator.batch(n)?.states;
        gen_time += t.elapsed();
        let t = Instant::now();
        let partial = sets.evaluate(&states, on, threads);
        eval_time += t.elapsed();
        for c in partial {
            add(&mut counts, c);
        }
        if let Some(f) = files.as_mut() {
            f.write(&states, on)?;
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
        sets.sets.len(),
        evals,
        evals / secs.max(1e-9),
        done as f64 / secs.max(1e-9),
        gen_time.as_secs_f64()
    );
    if let (Some(dir), Some(f)) = (out, files) {
        f.finish()?;
        write_schema(dir)?;
        let untranslated = write_predicates(dir, &sets, &counts)?;
        println!(
            "wrote {} (households.csv, members.csv, schema.tsv, predicates.tsv: {} predicates, {untranslated} without an SQL translation)",
            dir.display(),
            exprs - untranslated
        );
    }
    Ok(())
}
