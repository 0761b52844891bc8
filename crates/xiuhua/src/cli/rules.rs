//! `xiuhua rules …`: check, load, list, show, evaluate, run and simulate rule sets; one module
//! per subcommand under `rules/`.

mod check;
mod eval;
mod list;
mod load;
mod run;
mod show;
mod simulate;

use std::path::Path;

use anyhow::Context;
use clap::Subcommand;

use super::Cli;

/// Options of `xiuhua rules`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with rule sets.
    #[command(subcommand)]
    cmd: Command,
}

/// Rule-set subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Check rule-set files (or every .toml in a directory) without loading them.
    Check(check::Args),
    /// Load a new version of a rule set into the database (it then applies).
    Load(load::Args),
    /// List the rule sets in force.
    List,
    /// Show a rule set's parameters, items and version history.
    Show(show::Args),
    /// Evaluate every applicable household rule set for one household, with explanations.
    Eval(eval::Args),
    /// Apply a rule set to every household (or village, or county) of a region.
    Run(run::Args),
    /// What-if: apply a rule set with changed parameters next to the one in force, and report
    /// who would enter or leave. Changes nothing.
    Simulate(simulate::Args),
}

/// Runs a rules subcommand.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    match &a.cmd {
        Command::Check(a) => check::run(a),
        Command::Load(a) => load::run(cli, a).await,
        Command::List => list::run(cli).await,
        Command::Show(a) => show::run(cli, a).await,
        Command::Eval(a) => eval::run(cli, a).await,
        Command::Run(a) => run::run(cli, a).await,
        Command::Simulate(a) => simulate::run(cli, a).await,
    }
}

/// Reads a text file, naming it in the error.
fn read(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
}
