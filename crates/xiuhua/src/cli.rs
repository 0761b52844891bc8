//! Command-line wiring: the global options, one [`Command`] variant per subcommand, and the
//! dispatch. Each subcommand lives in its own module under `cli/` with its clap `Args` and a
//! `run` that calls `xiuhua-app`.

/// `println!` for command output: when stdout is closed (`xiuhua stats | head`), the command
/// ends quietly instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {
        $crate::cli::common::write_line(format_args!($($t)*))
    };
}

mod audit;
mod backup;
mod check;
mod close_year;
mod common;
mod create_user;
mod demo;
mod export;
mod export_stats;
mod import;
mod import_codes;
mod import_regions;
mod migrate;
mod reset_password;
mod restore;
mod rules;
mod serve;
mod stats;
mod verify_backup;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// xiuhua (绣花): 建档立卡 registry and 防返贫 monitoring for a county.
#[derive(Debug, Parser)]
#[command(name = "xiuhua", version, about)]
pub struct Cli {
    /// Data directory for the embedded SQLite database.
    #[arg(long, global = true, env = "XIUHUA_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL (sqlite://PATH or postgres://USER@HOST/DB); overrides --data-dir.
    #[arg(long, global = true, env = "XIUHUA_DATABASE_URL")]
    pub database_url: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (creates an admin account on first run and prints its password).
    Serve(serve::Args),
    /// Generate the demo county (modelled on 都安) into an empty registry.
    Demo(demo::Args),
    /// Create or update the database schema.
    Migrate,
    /// Import a region-code CSV (columns `code,name[,parent]`); all rows or none.
    // The help text without the backticks rustdoc needs around the brackets.
    #[command(about = "Import a region-code CSV (columns code,name[,parent]); all rows or none")]
    ImportRegions(import_regions::Args),
    /// Import code-list additions (tab-separated: list, code, Chinese, English).
    ImportCodes(import_codes::Args),
    /// Create a user.
    CreateUser(create_user::Args),
    /// Set a user's password.
    ResetPassword(reset_password::Args),
    /// Close a year's 年度动态调整 for a county (freezes its snapshot).
    CloseYear(close_year::Args),
    /// Import a household ledger (.xlsx, .xls or .csv in UTF-8/GBK): all rows or none.
    Import(import::Args),
    /// Export the registry of a region as a ledger (.xlsx or .csv by the file name).
    Export(export::Args),
    /// Export the standard statistics tables of a region (.xlsx).
    ExportStats(export_stats::Args),
    /// Search the access log (logins, views of personal data, exports, rule loads); registry
    /// changes are in each household's history.
    Audit(audit::Args),
    /// Rule sets (policy as data): check, load, list, show, eval, run, simulate.
    Rules(rules::Args),
    /// Check a county's stored registry against its event log (rows, members, periods,
    /// counts) and stored rule runs for completeness; exits non-zero on any difference.
    Check(check::Args),
    /// Back up the whole database (online: the server may keep running) into one SQLite file
    /// with a fingerprint of every table; works the same from SQLite and PostgreSQL.
    Backup(backup::Args),
    /// Check a backup file: SQLite integrity, foreign keys, and every table against its
    /// recorded row count and fingerprint.
    VerifyBackup(verify_backup::Args),
    /// Replace the database (--data-dir or --database-url) with a backup, atomically; the
    /// result is checked against the backup's fingerprints before it is committed. Stop the
    /// server first.
    Restore(restore::Args),
    /// Print households and people by status for a region, now or as of a date, with timing.
    Stats(stats::Args),
}

/// Runs a subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(a) => serve::run(&cli, a).await,
        Command::Demo(a) => demo::run(&cli, a).await,
        Command::Migrate => migrate::run(&cli).await,
        Command::ImportRegions(a) => import_regions::run(&cli, a).await,
        Command::ImportCodes(a) => import_codes::run(&cli, a).await,
        Command::CreateUser(a) => create_user::run(&cli, a).await,
        Command::ResetPassword(a) => reset_password::run(&cli, a).await,
        Command::CloseYear(a) => close_year::run(&cli, a).await,
        Command::Import(a) => import::run(&cli, a).await,
        Command::Export(a) => export::run(&cli, a).await,
        Command::ExportStats(a) => export_stats::run(&cli, a).await,
        Command::Audit(a) => audit::run(&cli, a).await,
        Command::Rules(a) => rules::run(&cli, a).await,
        Command::Check(a) => check::run(&cli, a).await,
        Command::Backup(a) => backup::run(&cli, a).await,
        Command::VerifyBackup(a) => verify_backup::run(a).await,
        Command::Restore(a) => restore::run(&cli, a).await,
        Command::Stats(a) => stats::run(&cli, a).await,
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
