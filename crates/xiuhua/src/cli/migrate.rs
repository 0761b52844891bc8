//! `xiuhua migrate`: create or update the database schema.

use super::Cli;
use super::common::open;

/// Opens the database, which migrates it.
pub(crate) async fn run(cli: &Cli) -> anyhow::Result<()> {
    let s = open(cli).await?;
    outln!("database schema is up to date ({:?})", s.db.backend());
    Ok(())
}
