//! `xiuhua rules eval`: every applicable household rule set for one household, explained.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use xiuhua_app::rules::Checklist;
use xiuhua_app::{CurrentUser, Services};

use crate::cli::Cli;
use crate::cli::common::{cli_error, open};

/// Options of `xiuhua rules eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Household id, or 户编号 together with --county.
    household: String,
    /// County of the 户编号.
    #[arg(long, default_value = xiuhua_app::demo::COUNTY_CODE)]
    county: String,
    /// Take the household as of the end of this date (default: now).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Values for declared inputs, as JSON: '{"owns_car": false}'.
    #[arg(long)]
    facts: Option<String>,
}

/// Prints the household's checklists.
pub(crate) async fn run(cli: &Cli, a: &Args) -> anyhow::Result<()> {
    let s = open(cli).await?;
    let id = household_id(&s, &a.household, &a.county).await?;
    let inputs: BTreeMap<String, serde_json::Value> = match &a.facts {
        Some(j) => serde_json::from_str(j).context("--facts must be a JSON object")?,
        None => BTreeMap::new(),
    };
    let lists =
        xiuhua_app::rules::household_checklists(&s, &CurrentUser::system(), id, a.as_of, &inputs)
            .await
            .map_err(cli_error)?;
    outln!("household {id}: {} rule sets apply", lists.len());
    for c in &lists {
        print_checklist(c);
    }
    Ok(())
}

/// The household with this 户编号 in the county, else the argument read as a household id.
async fn household_id(s: &Services, household: &str, county: &str) -> anyhow::Result<i64> {
    if let Some(id) = xiuhua_app::setup::household_id_by_no(s, county, household).await? {
        return Ok(id);
    }
    match household.parse::<i64>() {
        Ok(id) => Ok(id),
        Err(_) => bail!("no household {household} in county {county}"),
    }
}

fn print_checklist(c: &Checklist) {
    let score = c.score.map(|s| format!("，总分 {s}")).unwrap_or_default();
    let flag = if c.unconfirmed {
        "（含未经证实的标准值）"
    } else {
        ""
    };
    outln!(
        "\n{} v{} [{}] 截至 {}：{}{score}{flag}",
        c.name,
        c.version,
        c.purpose_zh,
        c.as_of,
        c.decision_zh
    );
    for i in &c.items {
        let pts = i.points.map(|p| format!(" {p}分")).unwrap_or_default();
        outln!(
            "  {:<6} {:<4} {}{pts}  {}  — {}",
            i.outcome_zh,
            i.kind_zh,
            i.label,
            i.code,
            i.explain
        );
    }
}
