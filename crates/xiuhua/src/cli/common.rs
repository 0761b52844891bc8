//! What several subcommands share: the database URL from the global options, opening the
//! services, progress bars, and app errors as CLI errors.

use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use xiuhua_app::setup::TableDigest;
use xiuhua_app::{Services, SystemClock};

use super::Cli;

impl Cli {
    /// The database URL: `--database-url`, or the SQLite file in `--data-dir` (created).
    pub(crate) fn url(&self) -> anyhow::Result<String> {
        if let Some(u) = &self.database_url {
            return Ok(u.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        Ok(format!(
            "sqlite://{}",
            self.data_dir.join("xiuhua.db").display()
        ))
    }
}

/// Opens (and migrates) the database and loads the services.
pub(crate) async fn open(cli: &Cli) -> anyhow::Result<Services> {
    let url = cli.url()?;
    let shown = redact(&url);
    let db = xiuhua_app::setup::open_database(&url, 8)
        .await
        .with_context(|| format!("cannot open database {shown}"))?;
    Services::new(db, Arc::new(SystemClock))
        .await
        .with_context(|| format!("cannot load code lists from {shown}"))
}

/// Hides a password in a database URL.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// A progress bar of `total` steps labelled `what`.
pub(crate) fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, 剩余 {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb
}

/// Progress of a table-by-table copy: the table's name and the rows so far.
pub(crate) fn table_progress(pb: &ProgressBar) -> impl FnMut(&str, u64) + Send + '_ {
    |table, rows| {
        pb.set_message(table.to_string());
        pb.inc(rows);
    }
}

/// Prints each table's row count and fingerprint.
pub(crate) fn print_tables(tables: &[TableDigest]) {
    for t in tables {
        outln!("  {:<20} {:>10} rows  {}", t.table, t.rows, &t.sha256[..16]);
    }
}

/// Turns an app error into a CLI error with every problem on its own line (English).
pub(crate) fn cli_error(e: xiuhua_app::Error) -> anyhow::Error {
    match e {
        xiuhua_app::Error::Invalid(errs) => {
            anyhow::anyhow!(
                "{}",
                errs.iter()
                    .map(|e| format!("{}: {}: {}", e.record, e.field, e.message_en()))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}

/// A region and an optional "as of" date: the options the counting commands share.
#[derive(Debug, clap::Args)]
pub(crate) struct RegionAsOf {
    /// Region code.
    #[arg(long)]
    pub(crate) region: String,
    /// Count as of the end of this date.
    #[arg(long)]
    pub(crate) as_of: Option<chrono::NaiveDate>,
}

/// Writes one line of command output to stdout. A closed pipe ends the process quietly with
/// success (the reader had what it wanted); another write error ends it with a message.
pub(crate) fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}
