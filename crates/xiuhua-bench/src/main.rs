//! The `xiuhua-bench` binary: `xiuhua-bench rules …` (see `bench/rules`).

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Rules {
            households,
            seed,
            out,
        } => xiuhua_bench::rules::bench(*households, *seed, out.as_deref()),
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
