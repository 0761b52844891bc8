//! Region counts: households and people of a region and of each child region by 户类型 and
//! 监测状态, now (`village_counts`) or as of a date (`household_periods`), with the frozen
//! snapshot of a closed year.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
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
    let mut ancestors = Vec::new();
    let mut parent = region.parent_code.clone();
    while let Some(p) = parent {
        let Some(r) = xiuhua_db::regions::find(&mut conn, &p).await? else {
            break;
        };
        parent = r.parent_code.clone();
        if user.can_see(&r.code) {
            ancestors.insert(0, r);
        }
    }
    let rows = match as_of {
        Some(d) => xiuhua_db::households::counts_as_of(&mut conn, code, &d.to_string()).await?,
        None => xiuhua_db::households::counts(&mut conn, code).await?,
    };
    let mut counts = Counts::default();
    let mut by_child: BTreeMap<String, Counts> = BTreeMap::new();
    for r in &rows {
        counts.add(r);
        by_child.entry(r.child_code.clone()).or_default().add(r);
    }
    let child_rows = xiuhua_db::regions::children(&mut conn, code).await?;
    let children = child_rows
        .into_iter()
        .map(|c| {
            let k = by_child.remove(&c.code).unwrap_or_default();
            (c, k)
        })
        .collect();
    let mut snapshot = None;
    if let (Some(d), Some(county)) = (as_of, region.county_code.clone())
        && d.month() == 12
        && d.day() == 31
    {
        let rows = xiuhua_db::years::snapshot(&mut conn, &county, d.year(), code).await?;
        if !rows.is_empty() {
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
            snapshot = Some((d.year(), c));
        }
    }
    Ok(RegionView {
        region,
        ancestors,
        counts,
        children,
        as_of,
        snapshot,
    })
}
