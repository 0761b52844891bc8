//! `xiuhua reset-password`: set a user's password.

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua reset-password`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Login name.
    #[arg(long)]
    username: String,
    /// New password.
    #[arg(long, env = "XIUHUA_NEW_PASSWORD")]
    password: String,
}

/// Sets the password.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    xiuhua_app::auth::reset_password(&s, &a.username, &a.password)
        .await
        .map_err(cli_error)?;
    outln!("password of {} changed", a.username);
    Ok(())
}
