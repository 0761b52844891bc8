//! `xiuhua rules list`: the rule sets in force.

use crate::cli::Cli;
use crate::cli::common::open;

/// Prints one line per rule set in force.
pub(crate) async fn run(cli: &Cli) -> anyhow::Result<()> {
    let s = open(cli).await?;
    for set in s.rules().current() {
        outln!(
            "{:<28} v{:<3} {:<9} {:<14} region {:<6} years {:?}  {}{}",
            set.def.id,
            set.def.version,
            set.def.level.as_str(),
            set.def.purpose.as_str(),
            if set.def.region.is_empty() {
                "全国"
            } else {
                &set.def.region
            },
            set.def.years,
            set.def.name,
            if set.is_unconfirmed() {
                "（未证实）"
            } else {
                ""
            }
        );
    }
    Ok(())
}
