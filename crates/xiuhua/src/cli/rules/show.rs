//! `xiuhua rules show`: a rule set's parameters, items and version history.

use anyhow::bail;

use crate::cli::Cli;
use crate::cli::common::open;

/// Options of `xiuhua rules show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule-set id.
    id: String,
    /// Version (default: the one in force).
    #[arg(long)]
    version: Option<i64>,
}

/// Prints the rule set.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let id = &a.id;
    let s = open(cli).await?;
    let book = s.rules();
    let Some(set) = book.get(id, a.version) else {
        bail!("no rule set {id}");
    };
    outln!("{} v{} — {}", set.def.id, set.def.version, set.def.name);
    outln!("source: {}", set.def.source);
    for (name, p) in &set.def.params {
        outln!(
            "param {name} ({}): value {:?} by year {:?}{}",
            p.label,
            p.value,
            p.by_year,
            if p.unconfirmed { " [unconfirmed]" } else { "" }
        );
    }
    for it in &set.items {
        outln!(
            "  {:<28} {:<9} {}\n      {}",
            it.def.code,
            it.def.kind.as_str(),
            it.def.label,
            it.def.expr.trim()
        );
    }
    for v in book.history(id) {
        outln!(
            "version {} loaded by {} at {} ({})",
            v.version,
            v.loaded_by,
            v.loaded_at,
            v.origin
        );
    }
    Ok(())
}
