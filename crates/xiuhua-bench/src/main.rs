//! The `xiuhua-bench` binary: `xiuhua-bench rules …` (see `bench/rules`) and `xiuhua-bench
//! ledger …` (a generated ledger of any size and shape, for `bench/import`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc, as in the `xiuhua` binary, so the figures are those of the product's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// xiuhua benchmarks (not part of the product).
#[derive(Debug, Parser)]
#[command(name = "xiuhua-bench", about)]
struct Cli {
    /// Which benchmark.
    #[command(subcommand)]
    command: Command,
}

/// Benchmarks.
#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate every shipped household exit, monitoring and quality rule set over generated
    /// households (no database), and write the same data and the same predicates as SQL for a
    /// peer (bench/rules runs DuckDB on them).
    Rules {
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
    /// Write a generated household ledger (`xiuhua-ledgergen`) of the villages of 都安 the
    /// application's tests use (高岭镇 弄力村, 地苏镇 板升村) and print its expected verdict.
    Ledger {
        /// `plain`, `messy` (every kind of mess, no cell errors: imports cleanly) or `errors`.
        #[arg(long, default_value = "messy")]
        shape: String,
        /// Number of households (about 2.5 member rows each).
        #[arg(long, default_value_t = 1000)]
        households: usize,
        /// Random seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// The file: `.xlsx` or `.csv` (UTF-8 with BOM unless --gbk).
        #[arg(long)]
        out: PathBuf,
        /// Write a CSV in GBK.
        #[arg(long)]
        gbk: bool,
        /// The villages to spread households over, one per line as `township<TAB>village<TAB>code`
        /// (e.g. a registry's villages, so its import finds them); default: the tests' two.
        #[arg(long)]
        villages: Option<PathBuf>,
    },
}

/// Writes a generated ledger and prints its verdict.
fn ledger(
    shape: &str,
    households: usize,
    seed: u64,
    out: &std::path::Path,
    gbk: bool,
    villages: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use xiuhua_ledgergen::{Config, Output, Shape, generate};
    let shape = Shape::named(shape)
        .ok_or_else(|| anyhow::anyhow!("unknown shape {shape:?} (plain, messy, errors)"))?;
    let xlsx = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let output = match (xlsx, gbk) {
        (true, true) => anyhow::bail!("--gbk is for a .csv file"),
        (true, false) => Output::Xlsx,
        (false, true) => Output::CsvGbk,
        (false, false) => Output::CsvBom,
    };
    let mut cfg = Config::duan(households, seed, shape, output);
    if let Some(path) = villages {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        cfg.villages = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match l.split('\t').collect::<Vec<_>>()[..] {
                [t, v, c] => Ok((t.to_string(), v.to_string(), c.trim().to_string())),
                _ => Err(anyhow::anyhow!(
                    "{}: not township<TAB>village<TAB>code: {l:?}",
                    path.display()
                )),
            })
            .collect::<anyhow::Result<_>>()?;
    }
    let v = generate(&cfg, out)?;
    println!(
        "{}: {} households, {} member rows, {} problems, {} notices",
        out.display(),
        v.households,
        v.member_rows,
        v.problems.len(),
        v.notices.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Rules {
            households,
            seed,
            out,
        } => xiuhua_bench::rules::bench(*households, *seed, out.as_deref()),
        Command::Ledger {
            shape,
            households,
            seed,
            out,
            gbk,
            villages,
        } => ledger(shape, *households, *seed, out, *gbk, villages.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
