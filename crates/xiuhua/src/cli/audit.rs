//! `xiuhua audit`: search the access log.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use xiuhua_app::CurrentUser;
use xiuhua_app::setup::AccessFilter;

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// User name.
    #[arg(long)]
    user: Option<String>,
    /// Target: household id, region code, rule set or user name.
    #[arg(long)]
    target: Option<String>,
    /// Action: login, login_failed, login_locked, login_unlock, view_personal, export_registry, export_list, load_rules.
    #[arg(long)]
    action: Option<String>,
    /// From this date (inclusive).
    #[arg(long)]
    since: Option<NaiveDate>,
    /// Up to this date (inclusive).
    #[arg(long)]
    until: Option<NaiveDate>,
    /// At most this many entries, newest first.
    #[arg(long, default_value_t = 200)]
    limit: i64,
    /// Also write the entries to this .xlsx.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Prints the matching entries (and writes them to `--out`).
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let f = AccessFilter {
        username: a.user.clone(),
        target: a.target.clone(),
        action: a.action.clone(),
        since: a.since.map(|d| d.to_string()),
        until: a.until.and_then(|d| d.succ_opt()).map(|d| d.to_string()),
        limit: a.limit,
    };
    let rows = xiuhua_app::audit::search(&s, &CurrentUser::system(), &f)
        .await
        .map_err(cli_error)?;
    for r in &rows {
        outln!(
            "{}  {:<12} {:<16} {:<16} {} {}",
            r.at,
            r.username,
            r.action,
            r.target,
            r.detail,
            r.client
        );
    }
    outln!("{} entries", rows.len());
    if let Some(out) = &a.out {
        let bytes = xiuhua_app::audit::workbook(&s, &CurrentUser::system(), &rows)
            .await
            .map_err(cli_error)?;
        std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
        outln!("written to {}", out.display());
    }
    Ok(())
}
