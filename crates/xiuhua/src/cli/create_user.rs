//! `xiuhua create-user`: create an account.

use anyhow::bail;
use xiuhua_app::CurrentUser;
use xiuhua_app::auth::{NewUser, Role};

use super::Cli;
use super::common::{cli_error, open};

/// Options of `xiuhua create-user`.
#[derive(Debug, clap::Args)]
pub struct Args {
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
}

/// Creates the user as the system user.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let Some(role) = Role::parse(&a.role) else {
        bail!(
            "unknown role {:?}: use admin, county, township, village, cadre or viewer",
            a.role
        )
    };
    let new = NewUser {
        username: a.username.clone(),
        password: a.password.clone(),
        display_name: a.name.clone().unwrap_or_else(|| a.username.clone()),
        role,
        region_code: a.region.clone(),
    };
    xiuhua_app::users::create(&s, &CurrentUser::system(), new, "cli")
        .await
        .map_err(cli_error)?;
    outln!("created user {}", a.username);
    Ok(())
}
