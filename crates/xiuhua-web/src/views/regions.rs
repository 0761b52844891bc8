//! Region pages: the list of counties an unscoped administrator sees, and a region's counts
//! (county → township → village) linking to the lists they count.

use askama::Template;
use chrono::NaiveDate;
use xiuhua_app::registry::{Counts, RegionView, Tally};
use xiuhua_domain::{MonitoringStatus, RegionLevel, RegistryStatus};

use super::Layout;
use crate::i18n::{Lang, T};

/// The regions at the top of the user's scope.
#[derive(Template)]
#[template(path = "regions/list.html")]
pub struct RootsPage {
    l: Layout,
    regions: Vec<(String, String)>,
}

impl RootsPage {
    /// The page listing `regions` as (code, name).
    pub fn new(l: Layout, regions: Vec<(String, String)>) -> RootsPage {
        RootsPage { l, regions }
    }
}

struct TotalRow {
    label: String,
    households: i64,
    people: i64,
    link: String,
    /// The same count in the last closed year's frozen snapshot (households, people).
    frozen: Option<(i64, i64)>,
}

struct ChildRow {
    code: String,
    name: String,
    poor: bool,
    cells: Vec<(i64, String)>,
}

/// A region with its counts, its frozen snapshot and its children's counts.
#[derive(Template)]
#[template(path = "regions/show.html")]
pub struct RegionPage {
    l: Layout,
    code: String,
    name: String,
    level: String,
    poor_note: String,
    crumbs: Vec<(String, String)>,
    as_of: String,
    totals: Vec<TotalRow>,
    /// The year of the frozen snapshot beside the counts, if a year was closed.
    snapshot_year: Option<i32>,
    child_headers: Vec<String>,
    children: Vec<ChildRow>,
}

/// The rows of a count table: (label, tally, list filter).
pub(crate) fn count_rows(t: &T, c: &Counts) -> Vec<(String, Tally, String)> {
    let mut rows = vec![(t.s("total").to_string(), c.total, String::new())];
    for s in RegistryStatus::ALL {
        rows.push((
            t.status(s).to_string(),
            c.status(s),
            format!("status={}", s.as_str()),
        ));
    }
    for m in [MonitoringStatus::Monitored, MonitoringStatus::Eliminated] {
        rows.push((
            t.monitoring(m).to_string(),
            c.monitoring(m),
            format!("monitoring={}", m.as_str()),
        ));
    }
    rows
}

/// The household list a count links to; counts "as of" a date link nowhere (lists show the
/// current registry).
fn list_link(as_of: Option<NaiveDate>, region: &str, filter: &str) -> String {
    if as_of.is_some() {
        String::new()
    } else if filter.is_empty() {
        format!("/households?region={region}")
    } else {
        format!("/households?region={region}&{filter}")
    }
}

fn totals(t: &T, v: &RegionView, code: &str, as_of: Option<NaiveDate>) -> Vec<TotalRow> {
    let mut frozen = v
        .snapshot
        .as_ref()
        .map(|(_, c)| count_rows(t, c).into_iter().map(|(_, f, _)| f));
    count_rows(t, &v.counts)
        .into_iter()
        .map(|(label, tally, filter)| TotalRow {
            label,
            households: tally.households,
            people: tally.people,
            link: list_link(as_of, code, &filter),
            frozen: frozen
                .as_mut()
                .and_then(Iterator::next)
                .map(|f| (f.households, f.people)),
        })
        .collect()
}

fn child_headers(t: &T) -> Vec<String> {
    let mut headers = vec![
        format!("{} {}", t.s("total"), t.s("household_count")),
        format!("{} {}", t.s("total"), t.s("people_count")),
    ];
    for s in [RegistryStatus::Poor, RegistryStatus::Lifted] {
        headers.push(format!("{} {}", t.status(s), t.s("household_count")));
        headers.push(format!("{} {}", t.status(s), t.s("people_count")));
    }
    headers.push(format!(
        "{} {}",
        t.monitoring(MonitoringStatus::Monitored),
        t.s("household_count")
    ));
    headers
}

fn children(v: &RegionView, as_of: Option<NaiveDate>) -> Vec<ChildRow> {
    v.children
        .iter()
        .map(|(r, c)| {
            let link = |filter: &str| list_link(as_of, &r.code, filter);
            let poor = c.status(RegistryStatus::Poor);
            let lifted = c.status(RegistryStatus::Lifted);
            let mon = c.monitoring(MonitoringStatus::Monitored);
            ChildRow {
                code: r.code.clone(),
                name: r.name.clone(),
                poor: r.is_poor_village == 1,
                cells: vec![
                    (c.total.households, link("")),
                    (c.total.people, link("")),
                    (poor.households, link("status=poor")),
                    (poor.people, link("status=poor")),
                    (lifted.households, link("status=lifted")),
                    (lifted.people, link("status=lifted")),
                    (mon.households, link("monitoring=monitored")),
                ],
            }
        })
        .collect()
}

fn level_label(level: i16, lang: Lang) -> &'static str {
    RegionLevel::from_i16(level)
        .map(|l| {
            if lang == Lang::Zh {
                l.label_zh()
            } else {
                l.label_en()
            }
        })
        .unwrap_or("")
}

fn poor_note(t: &T, v: &RegionView) -> String {
    match (v.region.is_poor_village, v.region.poor_exit_year) {
        (1, Some(y)) => format!("{} · {y} {}", t.s("poor_village"), t.s("exit")),
        (1, None) => t.s("poor_village").to_string(),
        _ => String::new(),
    }
}

impl RegionPage {
    /// The page of region `code` from the use case's answer.
    pub fn new(l: Layout, v: &RegionView, code: &str, as_of: Option<NaiveDate>) -> RegionPage {
        let t = l.t.clone();
        RegionPage {
            code: v.region.code.clone(),
            name: v.region.name.clone(),
            level: level_label(v.region.level, t.lang).into(),
            poor_note: poor_note(&t, v),
            crumbs: v
                .ancestors
                .iter()
                .map(|a| (a.code.clone(), a.name.clone()))
                .collect(),
            as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
            totals: totals(&t, v, code, as_of),
            snapshot_year: v.snapshot.as_ref().map(|(y, _)| *y),
            child_headers: child_headers(&t),
            children: children(v, as_of),
            l,
        }
    }
}
