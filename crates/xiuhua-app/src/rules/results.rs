//! A stored run's households: its results listed with filters (outcome, item, region), a page
//! at a time, and the same list as an `.xlsx` workbook (audited; identity numbers masked
//! unless the user may see them).

use xiuhua_rules::Outcome;
use xiuhua_xlsx::write::{Column, Kind, Out, XlsxTable};

use super::{find_set, region_names};
use crate::audit::{self, AuditAction};
use crate::registry::mask_id;
use crate::{CurrentUser, Error, Result, Services};

/// Which households of a stored run to list.
#[derive(Clone, Debug, Default)]
pub struct RunQuery {
    /// The outcome asked for (of the decision, or of `item`).
    pub outcome: Option<Outcome>,
    /// An item's code: filter on that item's outcome (`outcome`; default: fails).
    pub item: Option<String>,
    /// A region inside the run's and the user's (default: both of them).
    pub region: Option<String>,
    /// 1-based page.
    pub page: i64,
    /// Page size (capped at 500).
    pub per_page: i64,
}

/// One household of a stored run.
#[derive(Clone, Debug)]
pub struct RunHousehold {
    /// Household id.
    pub household_id: i64,
    /// 户编号 (empty if the household is gone).
    pub household_no: String,
    /// 户主姓名.
    pub head_name: String,
    /// 户主证件号码, masked unless the answer is an export for a user who may see it.
    pub head_id_number: String,
    /// Village code.
    pub village_code: String,
    /// Village name.
    pub village_name: String,
    /// The set's decision.
    pub decision: Outcome,
    /// The decision in Chinese.
    pub decision_zh: &'static str,
    /// How the decision is coloured (`Purpose::tone`).
    pub tone: &'static str,
    /// Labels of the items that did not pass (failed, then undecided), in file order.
    pub failed_items: Vec<String>,
    /// Labels of the items that could not be decided.
    pub unknown_items: Vec<String>,
}

/// A page of a stored run's households.
#[derive(Clone, Debug)]
pub struct RunPage {
    /// The run.
    pub run: xiuhua_db::rules::RunRow,
    /// The rule set's name (of the run's version).
    pub name: String,
    /// The items of the run's version: (code, label), for the item filter.
    pub items: Vec<(String, String)>,
    /// The decision words of the set's purpose: (holds, does not hold).
    pub holds_zh: (&'static str, &'static str),
    /// Matching households in total.
    pub total: i64,
    /// This page.
    pub rows: Vec<RunHousehold>,
}

fn outcome_char(o: Outcome) -> char {
    match o {
        Outcome::Pass => 'P',
        Outcome::Fail => 'F',
        Outcome::Unknown => 'U',
    }
}

/// A page of the households of stored run `run_id` matching `q`. The run must lie inside the
/// user's region or contain it (a village operator sees the village's part of a county run);
/// otherwise, like an unknown run or item, it is `NotFound`.
pub async fn run_households(
    s: &Services,
    user: &CurrentUser,
    run_id: i64,
    q: &RunQuery,
) -> Result<RunPage> {
    run_households_shown(s, user, run_id, q, false).await
}

async fn run_households_shown(
    s: &Services,
    user: &CurrentUser,
    run_id: i64,
    q: &RunQuery,
    full_ids: bool,
) -> Result<RunPage> {
    let not_found = || Error::NotFound {
        what: format!("run {run_id}"),
    };
    let mut conn = s.db.acquire().await?;
    let run = xiuhua_db::rules::find_run(&mut conn, run_id)
        .await?
        .ok_or_else(not_found)?;
    // The narrower of the run's region and the user's scope, then the filter inside it.
    let scope = if user.can_see(&run.region_code) {
        run.region_code.clone()
    } else if user.region_code.starts_with(&run.region_code) {
        user.region_code.clone()
    } else {
        return Err(not_found());
    };
    let region = match q.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => scope,
        Some(r) if r.starts_with(&scope) => r.to_string(),
        Some(r) if scope.starts_with(r) => scope,
        Some(r) => {
            return Err(Error::NotFound {
                what: format!("region {r}"),
            });
        }
    };
    let set = find_set(s, &run.rule_set, Some(run.version))?;
    let item = match q.item.as_deref().filter(|i| !i.is_empty()) {
        None => None,
        Some(code) => Some(
            set.items
                .iter()
                .position(|i| i.def.code == code)
                .ok_or_else(|| Error::NotFound {
                    what: format!("item {code}"),
                })?
                + 1,
        ),
    };
    let outcome = match (item, q.outcome) {
        (Some(_), None) => Some(Outcome::Fail),
        (_, o) => o,
    };
    let per_page = q.per_page.clamp(1, 500);
    let f = xiuhua_db::rules::ResultFilter {
        run_id,
        village_prefix: region,
        outcome: outcome.map(outcome_char),
        item,
        limit: per_page,
        offset: (q.page.clamp(1, 1_000_000_000) - 1) * per_page,
    };
    let results = xiuhua_db::rules::run_results(&mut conn, &f).await?;
    let total = xiuhua_db::rules::count_run_results(&mut conn, &f).await?;
    let mut households = Vec::with_capacity(results.len());
    for r in &results {
        let h = match r.unit.parse::<i64>() {
            Ok(id) => xiuhua_db::households::find(&mut conn, id).await?,
            Err(_) => None,
        };
        households.push(h);
    }
    drop(conn);
    let names = region_names(s, results.iter().map(|r| &r.village_code)).await?;
    let purpose = set.def.purpose;
    let (yes, no) = purpose.holds_zh();
    let full = full_ids && user.role.sees_personal_data();
    let rows = results
        .into_iter()
        .zip(households)
        .map(|(r, h)| {
            let decision = Outcome::parse(&r.decision).unwrap_or(Outcome::Unknown);
            let labels = |c: char| -> Vec<String> {
                r.items
                    .chars()
                    .zip(&set.items)
                    .filter(|(o, _)| *o == c)
                    .map(|(_, i)| i.def.label.clone())
                    .collect()
            };
            let (household_no, head_name, head_id_number) = match h {
                Some(h) => (
                    h.household_no,
                    h.head_name,
                    mask_id(&h.head_id_number, full),
                ),
                None => Default::default(),
            };
            RunHousehold {
                household_id: r.unit.parse().unwrap_or(0),
                household_no,
                head_name,
                head_id_number,
                village_name: names.get(&r.village_code).cloned().unwrap_or_default(),
                village_code: r.village_code,
                decision,
                decision_zh: match decision {
                    Outcome::Pass => yes,
                    Outcome::Fail => no,
                    Outcome::Unknown => "无法判断",
                },
                tone: purpose.tone(decision),
                failed_items: labels('F'),
                unknown_items: labels('U'),
            }
        })
        .collect();
    Ok(RunPage {
        name: set.def.name.clone(),
        items: set
            .items
            .iter()
            .map(|i| (i.def.code.clone(), i.def.label.clone()))
            .collect(),
        holds_zh: (yes, no),
        run,
        total,
        rows,
    })
}

/// Rows fetched per page while writing the workbook.
const EXPORT_PAGE: i64 = 500;

/// The households of stored run `run_id` matching `q` (every page) as an `.xlsx` workbook.
/// Identity numbers are in full only for users who may see them, who must then state a
/// `purpose`; the export is recorded in the access log (`export_rule_results`).
pub async fn export_run_households(
    s: &Services,
    user: &CurrentUser,
    run_id: i64,
    q: &RunQuery,
    purpose: &str,
) -> Result<Vec<u8>> {
    let full = user.role.sees_personal_data();
    // Scope and filters first (NotFound before anything is logged).
    let first = run_households(
        s,
        user,
        run_id,
        &RunQuery {
            per_page: 1,
            ..q.clone()
        },
    )
    .await?;
    let purpose = crate::exports::require_purpose(full, purpose)?;
    audit::record(
        s,
        &user.username,
        AuditAction::ExportRuleResults,
        &run_id.to_string(),
        &format!(
            "set={} v{} outcome={} item={} region={}{}{purpose}",
            first.run.rule_set,
            first.run.version,
            q.outcome.map(|o| o.as_str()).unwrap_or(""),
            q.item.as_deref().unwrap_or(""),
            q.region.as_deref().unwrap_or(""),
            if full { " full_id_numbers" } else { " masked" }
        ),
        "",
    )
    .await?;
    let unexpected = |e: xiuhua_xlsx::write::WriteError| Error::Unexpected(anyhow::anyhow!("{e}"));
    let columns = vec![
        Column::new("户编号", Kind::Text).width(18.0),
        Column::new("户主姓名", Kind::Text),
        Column::new("户主证件号码", Kind::Text).width(21.0),
        Column::new("行政村代码", Kind::Text).width(15.0),
        Column::new("行政村", Kind::Text).width(20.0),
        Column::new("结论", Kind::Text).width(14.0),
        Column::new("未通过的项目", Kind::Text).width(50.0),
        Column::new("无法判断的项目", Kind::Text).width(50.0),
    ];
    let mut t = XlsxTable::new("评估结果", columns).map_err(unexpected)?;
    let mut page = 1;
    loop {
        let p = run_households_shown(
            s,
            user,
            run_id,
            &RunQuery {
                page,
                per_page: EXPORT_PAGE,
                ..q.clone()
            },
            full,
        )
        .await?;
        for h in &p.rows {
            let row = [
                Out::from(h.household_no.clone()),
                Out::from(h.head_name.clone()),
                Out::from(h.head_id_number.clone()),
                Out::from(h.village_code.clone()),
                Out::from(h.village_name.clone()),
                Out::from(h.decision_zh),
                Out::from(h.failed_items.join("；")),
                Out::from(h.unknown_items.join("；")),
            ];
            t.push(&row, &[]).map_err(unexpected)?;
        }
        if p.rows.is_empty() || page * EXPORT_PAGE >= p.total {
            break;
        }
        page += 1;
    }
    t.into_bytes().map_err(unexpected)
}
