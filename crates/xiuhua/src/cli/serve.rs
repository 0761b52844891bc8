//! `xiuhua serve`: the web server, after the first-run admin account (and the demo county when
//! asked for and the registry is empty).

use anyhow::Context;
use xiuhua_app::demo::{DEFAULT_HOUSEHOLDS, DemoSpec};

use super::Cli;
use super::common::open;

/// Options of `xiuhua serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
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
    /// Take client addresses (access log, login lockout) from the X-Forwarded-For / X-Real-IP
    /// headers: use only behind a reverse proxy that sets them. Otherwise the connection's own
    /// address is used.
    #[arg(long, env = "XIUHUA_BEHIND_PROXY")]
    behind_proxy: bool,
    /// Largest uploaded ledger file in MiB (a larger upload is refused while it arrives).
    #[arg(long, env = "XIUHUA_MAX_UPLOAD_MIB", default_value_t = xiuhua_web::DEFAULT_MAX_UPLOAD_BYTES / (1024 * 1024))]
    max_upload_mib: u64,
    /// Uploads one user may have in progress at once.
    #[arg(long, env = "XIUHUA_MAX_UPLOADS_PER_USER", default_value_t = 2)]
    max_uploads_per_user: usize,
}

/// Serves until stopped.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    if a.demo && xiuhua_app::setup::household_total(&s).await? == 0 {
        let today = s.clock.today();
        super::demo::load(
            &s,
            &cli.data_dir,
            DemoSpec {
                county: xiuhua_app::demo::COUNTY_CODE.into(),
                seed: 2024,
                households: a.households,
                today,
                batch: 2000,
            },
        )
        .await?;
    }
    if let Some(pw) = xiuhua_app::auth::ensure_admin(&s).await? {
        let note = cli.data_dir.join("initial-admin-password.txt");
        let _ = std::fs::write(&note, format!("admin\n{pw}\n"));
        outln!("首次运行：已创建管理员账号 admin，密码 {pw}");
        outln!(
            "first run: created user `admin` with password {pw} (also saved to {})",
            note.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(&a.bind)
        .await
        .with_context(|| format!("cannot listen on {}", a.bind))?;
    outln!("xiuhua is serving on http://{}", listener.local_addr()?);
    let config = xiuhua_web::WebConfig {
        secure_cookies: a.secure_cookies,
        trust_proxy_headers: a.behind_proxy,
        max_upload_bytes: a.max_upload_mib.saturating_mul(1024 * 1024),
        max_uploads_per_user: a.max_uploads_per_user.max(1),
        upload_dir: None,
    };
    xiuhua_web::serve(listener, s, config).await?;
    Ok(())
}
