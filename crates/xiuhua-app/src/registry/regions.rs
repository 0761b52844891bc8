//! Region counts: households and people of a region and of each child region by 户类型 and
//! 监测状态, now (`village_counts`) or as of a date (`household_periods`), with the frozen
//! snapshot of a closed year.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use xiuhua_db::AnyConnection;
use xiuhua_db::households::CountRow;
use xiuhua_db::regions::RegionRow;
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use crate::{CurrentUser, Error, Result, Services};

/// Households and people in one cell of a count table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Households.
    pub households: i64,
    /// People.
    pub people: i64,
}

impl Tally {
    fn add(&mut self, h: i64, p: i64) {
        self.households += h;
        self.people += p;
    }
}

/// Counts of a region by 户类型 and by 监测状态.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// All households and people.
    pub total: Tally,
    /// By registry status, in `RegistryStatus::ALL` order.
    pub by_status: [Tally; 3],
    /// By monitoring status, in `MonitoringStatus::ALL` order.
    pub by_monitoring: [Tally; 3],
}

impl Counts {
    fn add(&mut self, r: &CountRow) {
        self.total.add(r.households, r.people);
        if let Some(i) = RegistryStatus::ALL
            .iter()
            .position(|s| s.as_str() == r.status)
        {
            self.by_status[i].add(r.households, r.people);
        }
        if let Some(i) = MonitoringStatus::ALL
            .iter()
            .position(|s| s.as_str() == r.monitoring)
        {
            self.by_monitoring[i].add(r.households, r.people);
        }
    }

    /// The tally of one registry status.
    pub fn status(&self, s: RegistryStatus) -> Tally {
        self.by_status[RegistryStatus::ALL
            .iter()
            .position(|x| *x == s)
            .unwrap_or(0)]
    }

    /// The tally of one monitoring status.
    pub fn monitoring(&self, m: MonitoringStatus) -> Tally {
        self.by_monitoring[MonitoringStatus::ALL
            .iter()
            .position(|x| *x == m)
            .unwrap_or(0)]
    }
}

/// A region with its counts and its children's counts.
#[derive(Clone, Debug)]
pub struct RegionView {
    /// The region.
    pub region: RegionRow,
    /// Its ancestors from the top (for breadcrumbs), limited to what the user may see.
    pub ancestors: Vec<RegionRow>,
    /// Totals of the region.
    pub counts: Counts,
    /// Each child region with its counts.
    pub children: Vec<(RegionRow, Counts)>,
    /// The date counted, if "as of".
    pub as_of: Option<NaiveDate>,
    /// Frozen snapshot counts of the region for the closed year `as_of` ends, if any.
    pub snapshot: Option<(i32, Counts)>,
}

/// Reads a region's counts (now, or as of the end of a date).
pub async fn region(
    s: &Services,
    user: &CurrentUser,
    code: &str,
    as_of: Option<NaiveDate>,
) -> Result<RegionView> {
    crate::clock::check_as_of(s.clock.as_ref(), as_of)?;
    let not_found = || Error::NotFound {
        what: format!("region {code}"),
    };
    if !user.can_see(code) {
        return Err(not_found());
    }
    let mut conn = s.db.acquire().await?;
    let region = xiuhua_db::regions::find(&mut conn, code)
        .await?
        .ok_or_else(not_found)?;
    let ancestors = visible_ancestors(&mut conn, user, &region).await?;
    let (counts, children) = counts_with_children(&mut conn, code, as_of).await?;
    let snapshot = match (as_of, region.county_code.clone()) {
        (Some(d), Some(county)) => year_snapshot(&mut conn, &county, code, d).await?,
        _ => None,
    };
    Ok(RegionView {
        region,
        ancestors,
        counts,
        children,
        as_of,
        snapshot,
    })
}

/// The region's ancestors from the top, leaving out those the user may not see.
async fn visible_ancestors(
    conn: &mut AnyConnection,
    user: &CurrentUser,
    region: &RegionRow,
) -> Result<Vec<RegionRow>> {
    let mut ancestors = Vec::new();
    let mut parent = region.parent_code.clone();
    while let Some(p) = parent {
        let Some(r) = xiuhua_db::regions::find(conn, &p).await? else {
            break;
        };
        parent = r.parent_code.clone();
        if user.can_see(&r.code) {
            ancestors.insert(0, r);
        }
    }
    Ok(ancestors)
}

/// The counts of region `code` and of each of its children (every child listed, counted or
/// not), now or as of a date.
async fn counts_with_children(
    conn: &mut AnyConnection,
    code: &str,
    as_of: Option<NaiveDate>,
) -> Result<(Counts, Vec<(RegionRow, Counts)>)> {
    let rows = match as_of {
        Some(d) => xiuhua_db::households::counts_as_of(conn, code, &d.to_string()).await?,
        None => xiuhua_db::households::counts(conn, code).await?,
    };
    let mut counts = Counts::default();
    let mut by_child: BTreeMap<String, Counts> = BTreeMap::new();
    for r in &rows {
        counts.add(r);
        by_child.entry(r.child_code.clone()).or_default().add(r);
    }
    let child_rows = xiuhua_db::regions::children(conn, code).await?;
    let children = child_rows
        .into_iter()
        .map(|c| {
            let k = by_child.remove(&c.code).unwrap_or_default();
            (c, k)
        })
        .collect();
    Ok((counts, children))
}

/// The frozen snapshot counts of region `code` for the year ending on `d`, if `d` is a
/// 31 December and the year was closed.
async fn year_snapshot(
    conn: &mut AnyConnection,
    county: &str,
    code: &str,
    d: NaiveDate,
) -> Result<Option<(i32, Counts)>> {
    if d.month() != 12 || d.day() != 31 {
        return Ok(None);
    }
    let rows = xiuhua_db::years::snapshot(conn, county, d.year(), code).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut c = Counts::default();
    for r in rows {
        c.add(&CountRow {
            child_code: r.village_code,
            status: r.status,
            monitoring: r.monitoring,
            households: r.households,
            people: r.people,
        });
    }
    Ok(Some((d.year(), c)))
}
