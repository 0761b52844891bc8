//! Consistency check of a county's stored registry against its event log.
//!
//! The event log is the source of truth; `households`, `members`, `household_periods` and
//! `village_counts` are derived from it inside the same transaction as each event. This check
//! re-derives them and reports every difference, plus stored rule runs whose results are
//! incomplete. After a crash, a restore or a manual repair it answers "is everything that is
//! stored whole and consistent?" (`xiuhua check`); the durability test runs it after every kill.

use std::collections::HashMap;
use xiuhua_domain::message::msg;

use xiuhua_db::AnyConnection;
use xiuhua_db::households::{HouseholdRow, PeriodRow};
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event::Event;
use xiuhua_domain::{HouseholdFields, Member, event};

use crate::registry::{household_row, period_rows};
use crate::{CurrentUser, Error, Result, Services};

/// What the check looked at and what it found.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// Households checked.
    pub households: usize,
    /// Events folded.
    pub events: usize,
    /// Differences found, one line each (empty when consistent).
    pub problems: Vec<String>,
}

/// Households per batch.
const BATCH: i64 = 500;

/// Checks every household of `county` (county staff and administrators only).
pub async fn check_county(s: &Services, user: &CurrentUser, county: &str) -> Result<CheckReport> {
    user.require_county()?;
    let county = user.narrow(Some(county))?;
    if county.len() != 6 {
        return Err(Error::invalid(
            "检查",
            "county",
            "not_a_county",
            msg("not_a_county").arg("county", county),
        ));
    }
    let mut report = CheckReport::default();
    let mut conn = s.db.acquire().await?;
    let mut after = 0;
    loop {
        let rows = xiuhua_db::households::page(&mut conn, &county, after, BATCH).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        check_page(&mut conn, &county, &rows, &mut report).await?;
    }
    check_county_tables(&mut conn, &county, &mut report).await?;
    Ok(report)
}

/// Checks one page of households against their events, members and periods.
async fn check_page(
    conn: &mut AnyConnection,
    county: &str,
    rows: &[HouseholdRow],
    report: &mut CheckReport,
) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut events = xiuhua_db::events::list_for_households(conn, county, &ids).await?;
    let mut members: HashMap<i64, Vec<MemberRow>> = HashMap::new();
    for m in xiuhua_db::members::list_for_households(conn, county, &ids).await? {
        members.entry(m.household_id).or_default().push(m);
    }
    let mut periods: HashMap<i64, Vec<PeriodRow>> = HashMap::new();
    for p in xiuhua_db::households::periods_for_households(conn, county, &ids).await? {
        periods.entry(p.household_id).or_default().push(p);
    }
    for stored in rows {
        report.households += 1;
        let id = stored.id;
        let evs = events.remove(&id).unwrap_or_default();
        report.events += evs.len();
        let found = check_household(
            county,
            stored,
            &evs,
            members.remove(&id).unwrap_or_default(),
            periods.remove(&id).unwrap_or_default(),
        );
        report.problems.extend(
            found
                .into_iter()
                .map(|what| format!("household {id} ({}): {what}", stored.household_no)),
        );
    }
    Ok(())
}

/// The differences between one stored household (row, member rows, period rows) and what its
/// events give.
fn check_household(
    county: &str,
    stored: &HouseholdRow,
    evs: &[Event],
    members: Vec<MemberRow>,
    periods: Vec<PeriodRow>,
) -> Vec<String> {
    let id = stored.id;
    let mut problems = Vec::new();
    let state = match event::fold(evs) {
        Ok(Some(st)) => st,
        Ok(None) => return vec!["has no events".into()],
        Err(e) => return vec![format!("events do not fold: {e}")],
    };
    match household_row(
        id,
        evs.len() as i64,
        &state,
        &stored.created_at,
        &stored.updated_at,
    ) {
        Ok(expected) if &expected != stored => {
            problems.push(format!(
                "stored row differs from its {} events in {}",
                evs.len(),
                row_differences(&expected, stored).join(", ")
            ));
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("cannot rebuild row: {e}")),
    }
    let expected_members: Vec<MemberRow> = state
        .members
        .iter()
        .filter_map(|m| MemberRow::from_member(county, id, m).ok())
        .collect();
    let have = member_rows_decoded(members);
    let want = member_rows_decoded(expected_members);
    if have != want {
        problems.push(format!(
            "members table has {} rows, the events give {}",
            have.len(),
            want.len()
        ));
    }
    match event::periods(evs) {
        Ok(p) => {
            if periods != period_rows(county, id, &p) {
                problems.push("periods differ from the events".into());
            }
        }
        Err(e) => problems.push(format!("periods cannot be derived: {e}")),
    }
    problems
}

/// The county-wide checks: `village_counts` against a recount, orphan rows, incomplete rule
/// runs.
async fn check_county_tables(
    conn: &mut AnyConnection,
    county: &str,
    report: &mut CheckReport,
) -> Result<()> {
    let stored = xiuhua_db::households::stored_counts(conn, county).await?;
    let recount = xiuhua_db::households::recount(conn, county).await?;
    if stored != recount {
        let differing = recount
            .iter()
            .filter(|c| !stored.contains(c))
            .chain(stored.iter().filter(|c| !recount.contains(c)))
            .count();
        report.problems.push(format!(
            "village counts differ from a recount of the households in {differing} cells"
        ));
    }
    for (table, n) in xiuhua_db::households::orphans(conn, county).await? {
        report
            .problems
            .push(format!("{n} rows in {table} belong to no household"));
    }
    for (run, units, results) in xiuhua_db::rules::incomplete_runs(conn, county).await? {
        report.problems.push(format!(
            "rule run {run}: {results} results stored for {units} units"
        ));
    }
    Ok(())
}

/// Member rows in id order with `data` decoded (its JSON form may differ between writers).
fn member_rows_decoded(mut rows: Vec<MemberRow>) -> Vec<(MemberRow, Option<Member>)> {
    rows.sort_by_key(|m| m.id);
    rows.into_iter()
        .map(|mut m| {
            let decoded = m.decode().ok();
            m.data.clear();
            (m, decoded)
        })
        .collect()
}

/// Names of the columns where two household rows differ (with both values for short ones).
fn row_differences(want: &HouseholdRow, have: &HouseholdRow) -> Vec<String> {
    let mut out = column_differences(want, have);
    field_differences(want, have, &mut out);
    out
}

/// The columns other than `fields` where two household rows differ.
fn column_differences(want: &HouseholdRow, have: &HouseholdRow) -> Vec<String> {
    let mut out = Vec::new();
    let mut cmp = |name: &str, w: String, h: String| {
        if w != h {
            out.push(if w.len() + h.len() < 80 {
                format!("{name} (stored {h:?}, events give {w:?})")
            } else {
                name.to_string()
            });
        }
    };
    cmp(
        "village_code",
        want.village_code.clone(),
        have.village_code.clone(),
    );
    cmp(
        "group_code",
        format!("{:?}", want.group_code),
        format!("{:?}", have.group_code),
    );
    cmp(
        "household_no",
        want.household_no.clone(),
        have.household_no.clone(),
    );
    cmp("head_name", want.head_name.clone(), have.head_name.clone());
    cmp(
        "head_id_number",
        want.head_id_number.clone(),
        have.head_id_number.clone(),
    );
    cmp("status", want.status.clone(), have.status.clone());
    cmp(
        "monitoring",
        want.monitoring.clone(),
        have.monitoring.clone(),
    );
    cmp(
        "monitor_type",
        format!("{:?}", want.monitor_type),
        format!("{:?}", have.monitor_type),
    );
    cmp(
        "exit_year",
        format!("{:?}", want.exit_year),
        format!("{:?}", have.exit_year),
    );
    cmp(
        "member_count",
        want.member_count.to_string(),
        have.member_count.to_string(),
    );
    cmp(
        "version",
        want.version.to_string(),
        have.version.to_string(),
    );
    out
}

/// Adds the `fields` keys where two household rows differ to `out` (and `fields` itself when
/// they differ elsewhere in the JSON or nothing else was found).
fn field_differences(want: &HouseholdRow, have: &HouseholdRow, out: &mut Vec<String>) {
    // Compared as values: the same fields may be stored in another JSON form (rows written
    // before `compact` left empty fields out).
    let decode = |s: &str| serde_json::from_str::<HouseholdFields>(s).ok();
    if decode(&want.fields) != decode(&have.fields) {
        let parse = |s: &str| match decode(s).map(|f| serde_json::to_value(&f)) {
            Some(Ok(serde_json::Value::Object(m))) => m,
            _ => serde_json::Map::new(),
        };
        let (w, h) = (parse(&want.fields), parse(&have.fields));
        for (k, v) in &w {
            if h.get(k) != Some(v) {
                out.push(format!(
                    "fields.{k} (stored {}, events give {v})",
                    h.get(k)
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "nothing".into())
                ));
            }
        }
        if w.len() != h.len() || out.is_empty() {
            out.push("fields".into());
        }
    }
}
