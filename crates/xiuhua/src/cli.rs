//! Subcommands. Each one opens the database named by `--database-url` (or the SQLite file in
//! `--data-dir`) and calls `xiuhua-app`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use xiuhua_app::auth::{NewUser, Role};
use xiuhua_app::demo::{DEFAULT_HOUSEHOLDS, DemoSpec};
use xiuhua_app::{CurrentUser, Services, SystemClock};
use xiuhua_db::Db;

/// xiuhua (绣花): 建档立卡 registry and 防返贫 monitoring for a county.
#[derive(Debug, Parser)]
#[command(name = "xiuhua", version, about)]
pub struct Args {
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
    Serve {
        /// Address to listen on.
        #[arg(long, env = "XIUHUA_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Load the demo county first if the registry is empty.
        #[arg(long)]
        demo: bool,
        /// Demo size when --demo loads it.
        #[arg(long, default_value_t = DEFAULT_HOUSEHOLDS)]
        households: usize,
        /// Mark the session cookie Secure: use when users reach xiuhua over HTTPS (a TLS reverse
        /// proxy); browsers then never send the session over plain HTTP.
        #[arg(long, env = "XIUHUA_SECURE_COOKIES")]
        secure_cookies: bool,
    },
    /// Generate the demo county (modelled on 都安) into an empty registry.
    Demo {
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
    },
    /// Create or update the database schema.
    Migrate,
    /// Import a region-code CSV (columns code,name[,parent]); all rows or none.
    ImportRegions {
        /// The CSV file.
        file: PathBuf,
    },
    /// Import code-list additions (tab-separated: list, code, Chinese, English).
    ImportCodes {
        /// The file.
        file: PathBuf,
    },
    /// Create a user.
    CreateUser {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role: admin, county, township, village, cadre, viewer.
        #[arg(long)]
        role: String,
        /// Region code of the user's scope (empty for all).
        #[arg(long, default_value = "")]
        region: String,
        /// Shown name.
        #[arg(long)]
        name: Option<String>,
        /// Password (read from XIUHUA_NEW_PASSWORD if not given).
        #[arg(long, env = "XIUHUA_NEW_PASSWORD")]
        password: String,
    },
    /// Set a user's password.
    ResetPassword {
        /// Login name.
        #[arg(long)]
        username: String,
        /// New password.
        #[arg(long, env = "XIUHUA_NEW_PASSWORD")]
        password: String,
    },
    /// Close a year's 年度动态调整 for a county (freezes its snapshot).
    CloseYear {
        /// County code.
        #[arg(long)]
        county: String,
        /// Year to close.
        #[arg(long)]
        year: i32,
    },
    /// Import a household ledger (.xlsx, .xls or .csv in UTF-8/GBK): all rows or none.
    Import {
        /// The ledger file.
        file: PathBuf,
        /// County code the ledger belongs to.
        #[arg(long)]
        county: String,
        /// From when the imported facts are true (default: today).
        #[arg(long)]
        effective_date: Option<NaiveDate>,
        /// Show what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Extra header names: lines of `表头<TAB>field` (fields as in docs/import.md).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Reason recorded on every event.
        #[arg(long, default_value = "台账导入")]
        reason: String,
        /// Where to write the error workbook when there are problems.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Export the registry of a region as a ledger (.xlsx or .csv by the file name).
    Export {
        /// Output file.
        out: PathBuf,
        /// Region code (default: everything).
        #[arg(long)]
        region: Option<String>,
        /// Export the registry as it stood at the end of this date.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Why the data leaves the system (用途); written to the access log. Required: the
        /// export carries full identity numbers.
        #[arg(long)]
        purpose: String,
    },
    /// Export the standard statistics tables of a region (.xlsx).
    ExportStats {
        /// Output file.
        out: PathBuf,
        /// Region code.
        #[arg(long)]
        region: String,
        /// Count as of the end of this date.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Search the access log (logins, views of personal data, exports, rule loads); registry
    /// changes are in each household's history.
    Audit {
        /// User name.
        #[arg(long)]
        user: Option<String>,
        /// Target: household id, region code, rule set or user name.
        #[arg(long)]
        target: Option<String>,
        /// Action: login, login_failed, login_locked, view_personal, export_registry, export_list, load_rules.
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
    },
    /// Rule sets (policy as data): check, load, list, show, eval, run, simulate.
    Rules {
        /// What to do with rule sets.
        #[command(subcommand)]
        cmd: crate::rules_cli::RulesCommand,
    },
    /// Check a county's stored registry against its event log (rows, members, periods,
    /// counts) and stored rule runs for completeness; exits non-zero on any difference.
    Check {
        /// County code.
        #[arg(long, default_value = xiuhua_app::demo::COUNTY_CODE)]
        county: String,
    },
    /// Back up the whole database (online: the server may keep running) into one SQLite file
    /// with a fingerprint of every table; works the same from SQLite and PostgreSQL.
    Backup {
        /// The backup file to create (never overwritten).
        out: PathBuf,
    },
    /// Check a backup file: SQLite integrity, foreign keys, and every table against its
    /// recorded row count and fingerprint.
    VerifyBackup {
        /// The backup file.
        file: PathBuf,
    },
    /// Replace the database (--data-dir or --database-url) with a backup, atomically; the
    /// result is checked against the backup's fingerprints before it is committed. Stop the
    /// server first.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace a database that already holds households or users.
        #[arg(long)]
        force: bool,
    },
    /// Print households and people by status for a region, now or as of a date, with timing.
    Stats {
        /// Region code.
        #[arg(long)]
        region: String,
        /// Count as of the end of this date.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
}

impl Args {
    fn database_url(&self) -> anyhow::Result<String> {
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

pub(crate) async fn open(args: &Args) -> anyhow::Result<Services> {
    let url = args.database_url()?;
    let shown = redact(&url);
    let db = Db::open(&url, 8)
        .await
        .with_context(|| format!("cannot open database {shown}"))?;
    Services::new(db, Arc::new(SystemClock))
        .await
        .with_context(|| format!("cannot load code lists from {shown}"))
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_string(),
    }
}

pub(crate) fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, 剩余 {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb
}

async fn run_demo(s: &Services, spec: DemoSpec) -> anyhow::Result<()> {
    let started = Instant::now();
    let pb = progress_bar(spec.households as u64, "生成演示县");
    let stats = xiuhua_app::demo::load(s, &spec, &|done, _| pb.set_position(done)).await?;
    pb.finish_and_clear();
    println!(
        "demo county loaded: {} regions, {} households, {} members, {} events in {:.1} s",
        stats.regions,
        stats.households,
        stats.members,
        stats.events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs a subcommand.
pub async fn run(args: Args) -> anyhow::Result<()> {
    match &args.command {
        Command::Migrate => {
            let s = open(&args).await?;
            println!("database schema is up to date ({:?})", s.db.backend());
        }
        Command::Demo {
            county,
            seed,
            households,
            batch,
            today,
        } => {
            let s = open(&args).await?;
            let today = today.unwrap_or_else(|| s.clock.today());
            run_demo(
                &s,
                DemoSpec {
                    county: county.clone(),
                    seed: *seed,
                    households: *households,
                    today,
                    batch: *batch,
                },
            )
            .await?;
        }
        Command::Serve {
            bind,
            demo,
            households,
            secure_cookies,
        } => {
            let s = open(&args).await?;
            if *demo && xiuhua_db::households::total(&mut *s.db.acquire().await?).await? == 0 {
                let today = s.clock.today();
                run_demo(
                    &s,
                    DemoSpec {
                        county: xiuhua_app::demo::COUNTY_CODE.into(),
                        seed: 2024,
                        households: *households,
                        today,
                        batch: 2000,
                    },
                )
                .await?;
            }
            if let Some(pw) = xiuhua_app::auth::ensure_admin(&s).await? {
                let note = args.data_dir.join("initial-admin-password.txt");
                let _ = std::fs::write(&note, format!("admin\n{pw}\n"));
                println!("首次运行：已创建管理员账号 admin，密码 {pw}");
                println!(
                    "first run: created user `admin` with password {pw} (also saved to {})",
                    note.display()
                );
            }
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            println!("xiuhua is serving on http://{}", listener.local_addr()?);
            let config = xiuhua_web::WebConfig {
                secure_cookies: *secure_cookies,
            };
            xiuhua_web::serve(listener, s, config).await?;
        }
        Command::ImportRegions { file } => {
            let s = open(&args).await?;
            let rows = xiuhua_app::regions::parse_region_file(file).map_err(cli_error)?;
            let n = xiuhua_app::regions::import_regions(&s, &CurrentUser::system(), &rows)
                .await
                .map_err(cli_error)?;
            println!("imported {n} regions from {}", file.display());
        }
        Command::ImportCodes { file } => {
            let s = open(&args).await?;
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let n = xiuhua_app::codes::import_tsv(&s, &text)
                .await
                .map_err(cli_error)?;
            println!("imported {n} codes from {}", file.display());
        }
        Command::CreateUser {
            username,
            role,
            region,
            name,
            password,
        } => {
            let s = open(&args).await?;
            let Some(role) = Role::parse(role) else {
                bail!(
                    "unknown role {role:?}: use admin, county, township, village, cadre or viewer"
                )
            };
            let new = NewUser {
                username: username.clone(),
                password: password.clone(),
                display_name: name.clone().unwrap_or_else(|| username.clone()),
                role,
                region_code: region.clone(),
            };
            xiuhua_app::auth::create_user(&s, &CurrentUser::system(), new)
                .await
                .map_err(cli_error)?;
            println!("created user {username}");
        }
        Command::ResetPassword { username, password } => {
            let s = open(&args).await?;
            xiuhua_app::auth::reset_password(&s, username, password)
                .await
                .map_err(cli_error)?;
            println!("password of {username} changed");
        }
        Command::CloseYear { county, year } => {
            let s = open(&args).await?;
            let n = xiuhua_app::registry::close_year(&s, &CurrentUser::system(), county, *year)
                .await
                .map_err(cli_error)?;
            println!("closed year {year} for county {county}; snapshot has {n} rows");
        }
        Command::Import {
            file,
            county,
            effective_date,
            dry_run,
            mapping,
            reason,
            errors,
        } => {
            let s = open(&args).await?;
            let mapping = match mapping {
                Some(m) => {
                    let text = std::fs::read_to_string(m)
                        .with_context(|| format!("cannot read {}", m.display()))?;
                    xiuhua_xlsx::columns::parse_mapping(&text)
                        .map_err(|e| anyhow::anyhow!("mapping file {}: {e}", m.display()))?
                }
                None => Vec::new(),
            };
            let opts = xiuhua_app::imports::ImportOptions {
                county: county.clone(),
                effective_date: effective_date.unwrap_or_else(|| s.clock.today()),
                dry_run: *dry_run,
                mapping,
                file_name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                reason: reason.clone(),
            };
            let started = Instant::now();
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template("导入 {spinner} {pos} 行 ({per_sec})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            let report = xiuhua_app::imports::import_ledger(
                &s,
                &CurrentUser::system(),
                file,
                &opts,
                &|rows| pb.set_position(rows as u64),
            )
            .await
            .map_err(cli_error)?;
            pb.finish_and_clear();
            for (sheet, col, name) in &report.unknown_columns {
                println!("unknown column {col} {name:?} in sheet {sheet} (not imported)");
            }
            for sheet in &report.skipped_sheets {
                println!("sheet {sheet:?} skipped: no header row");
            }
            if !report.problems.is_empty() {
                for p in &report.problems {
                    println!(
                        "{} row {} {}: {:?}: {}",
                        p.sheet, p.row, p.column, p.value, p.reason_en
                    );
                }
                if let (Some(path), Some(bytes)) = (errors, &report.error_workbook) {
                    std::fs::write(path, bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!("error workbook written to {}", path.display());
                }
                bail!(
                    "{} problems in {}; nothing was imported",
                    report.problems.len(),
                    file.display()
                );
            }
            println!(
                "{}{} rows, {} households: {} new, {} changed, {} unchanged; {} events ({:.1} s, sha256 {})",
                if report.dry_run {
                    "dry run (nothing written): "
                } else {
                    "imported "
                },
                report.rows,
                report.households,
                report.created,
                report.changed,
                report.unchanged,
                report.events,
                started.elapsed().as_secs_f64(),
                &report.sha256[..16],
            );
        }
        Command::Export {
            out,
            region,
            as_of,
            purpose,
        } => {
            let s = open(&args).await?;
            let format = if out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
            {
                xiuhua_app::exports::ExportFormat::Csv
            } else {
                xiuhua_app::exports::ExportFormat::Xlsx
            };
            let started = Instant::now();
            let pb = ProgressBar::new_spinner();
            let rows = xiuhua_app::exports::export_registry(
                &s,
                &CurrentUser::system(),
                &xiuhua_app::exports::RegistryExport {
                    region: region.as_deref(),
                    as_of: *as_of,
                    format,
                    purpose,
                },
                out,
                &|n| pb.set_position(n as u64),
            )
            .await
            .map_err(cli_error)?;
            pb.finish_and_clear();
            println!(
                "exported {rows} member rows to {} in {:.1} s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::ExportStats { out, region, as_of } => {
            let s = open(&args).await?;
            let bytes = xiuhua_app::exports::export_statistics(
                &s,
                &CurrentUser::system(),
                Some(region),
                *as_of,
            )
            .await
            .map_err(cli_error)?;
            std::fs::write(out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("statistics written to {}", out.display());
        }
        Command::Rules { cmd } => crate::rules_cli::run(&args, cmd).await?,
        Command::Audit {
            user,
            target,
            action,
            since,
            until,
            limit,
            out,
        } => {
            let s = open(&args).await?;
            let f = xiuhua_db::audit::AccessFilter {
                username: user.clone(),
                target: target.clone(),
                action: action.clone(),
                since: since.map(|d| d.to_string()),
                until: until.and_then(|d| d.succ_opt()).map(|d| d.to_string()),
                limit: *limit,
            };
            let rows = xiuhua_app::audit::search(&s, &CurrentUser::system(), &f)
                .await
                .map_err(cli_error)?;
            for r in &rows {
                println!(
                    "{}  {:<12} {:<16} {:<16} {} {}",
                    r.at, r.username, r.action, r.target, r.detail, r.client
                );
            }
            println!("{} entries", rows.len());
            if let Some(out) = out {
                let bytes = xiuhua_app::audit::workbook(&rows).map_err(cli_error)?;
                std::fs::write(out, bytes)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                println!("written to {}", out.display());
            }
        }
        Command::Check { county } => {
            let s = open(&args).await?;
            let started = Instant::now();
            let r = xiuhua_app::check::check_county(&s, &CurrentUser::system(), county)
                .await
                .map_err(cli_error)?;
            for p in &r.problems {
                println!("PROBLEM: {p}");
            }
            println!(
                "checked {} households, {} events of county {county} in {:.1} s: {} problems",
                r.households,
                r.events,
                started.elapsed().as_secs_f64(),
                r.problems.len()
            );
            if !r.problems.is_empty() {
                bail!("county {county} is not consistent");
            }
        }
        Command::Backup { out } => {
            let s = open(&args).await?;
            let pb = ProgressBar::new_spinner();
            let r = xiuhua_app::backup::backup(
                &s,
                &CurrentUser::system(),
                out,
                &mut table_progress(&pb),
            )
            .await
            .map_err(cli_error)?;
            pb.finish_and_clear();
            print_tables(&r.tables);
            println!(
                "backup written to {} ({:.1} MB, {} rows, {:.1} s)",
                r.path.display(),
                r.bytes as f64 / 1e6,
                r.tables.iter().map(|t| t.rows).sum::<i64>(),
                r.seconds
            );
        }
        Command::VerifyBackup { file } => {
            let r = xiuhua_app::backup::verify(file).await.map_err(cli_error)?;
            for (k, v) in &r.info {
                println!("{k}: {v}");
            }
            print_tables(&r.tables);
            if !r.ok() {
                for p in &r.problems {
                    println!("PROBLEM: {p}");
                }
                bail!("{} failed verification", file.display());
            }
            println!(
                "{}: integrity ok, every table matches its fingerprint",
                file.display()
            );
        }
        Command::Restore { file, force } => {
            let url = args.database_url()?;
            let db = Db::open(&url, 4)
                .await
                .with_context(|| format!("cannot open database {}", redact(&url)))?;
            let pb = ProgressBar::new_spinner();
            let r = xiuhua_app::backup::restore(&db, file, *force, &mut table_progress(&pb))
                .await
                .map_err(cli_error)?;
            pb.finish_and_clear();
            print_tables(&r.tables);
            println!(
                "restored {} rows from {} into {} in {:.1} s; the result matches the backup's fingerprints",
                r.tables.iter().map(|t| t.rows).sum::<i64>(),
                file.display(),
                redact(&url),
                r.seconds
            );
        }
        Command::Stats { region, as_of } => {
            let s = open(&args).await?;
            let started = Instant::now();
            let v = xiuhua_app::registry::region(&s, &CurrentUser::system(), region, *as_of)
                .await
                .map_err(cli_error)?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let when = as_of
                .map(|d| format!("as of {d}"))
                .unwrap_or_else(|| "now".into());
            println!(
                "{} {} ({when}): {} households, {} people",
                v.region.code, v.region.name, v.counts.total.households, v.counts.total.people
            );
            for st in xiuhua_domain::RegistryStatus::ALL {
                let t = v.counts.status(st);
                println!(
                    "  {:<8} {:>8} households {:>9} people",
                    st.as_str(),
                    t.households,
                    t.people
                );
            }
            for m in xiuhua_domain::MonitoringStatus::ALL {
                let t = v.counts.monitoring(m);
                println!(
                    "  {:<10} {:>8} households {:>9} people",
                    m.as_str(),
                    t.households,
                    t.people
                );
            }
            println!("query_ms={ms:.1}");
        }
    }
    Ok(())
}

/// Progress of a table-by-table copy: the table's name and the rows so far.
fn table_progress(pb: &ProgressBar) -> impl FnMut(&str, u64) + Send + '_ {
    |table, rows| {
        pb.set_message(table.to_string());
        pb.inc(rows);
    }
}

fn print_tables(tables: &[xiuhua_db::backup::TableDigest]) {
    for t in tables {
        println!("  {:<20} {:>10} rows  {}", t.table, t.rows, &t.sha256[..16]);
    }
}

/// Turns an app error into a CLI error with every problem on its own line (English).
pub(crate) fn cli_error(e: xiuhua_app::Error) -> anyhow::Error {
    match e {
        xiuhua_app::Error::Invalid(errs) => {
            anyhow::anyhow!(
                "{}",
                errs.iter()
                    .map(|e| format!("{}: {}: {}", e.record, e.field, e.message_en))
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
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Args::command().debug_assert();
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
