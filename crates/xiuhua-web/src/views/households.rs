//! The household list: search form, matching regions, one page of households, the pager and
//! the export form carrying the same filters.

use std::collections::HashMap;

use askama::Template;
use xiuhua_app::registry::HouseholdSummary;
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use super::Layout;
use crate::i18n::T;
use crate::pages::url_encode;

/// Households per page of the list.
pub const PER_PAGE: i64 = 50;

/// The list's filters as the request gave them.
#[derive(Default)]
pub struct ListFilters {
    /// Region code.
    pub region: Option<String>,
    /// Search text.
    pub q: Option<String>,
    /// Registry status (storage form).
    pub status: Option<String>,
    /// Monitoring status (storage form).
    pub monitoring: Option<String>,
    /// `1` when full identity numbers were asked for (and may be shown).
    pub full_ids: Option<String>,
}

impl ListFilters {
    /// The filters given (non-empty), as (name, value), in a fixed order.
    fn given(&self) -> Vec<(&'static str, String)> {
        [
            ("region", &self.region),
            ("q", &self.q),
            ("status", &self.status),
            ("monitoring", &self.monitoring),
            ("full_ids", &self.full_ids),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect()
    }
}

/// What the list page shows, as the use cases answered.
pub struct ListData {
    /// The page of households.
    pub list: Vec<HouseholdSummary>,
    /// Matching households in total (or the bound the count stopped at).
    pub total: i64,
    /// More than `total` match: shown "1,000+ 户", the pages as "1 / 20+".
    pub total_capped: bool,
    /// Page number (1-based).
    pub page: i64,
    /// Names of the villages on the page and of the filtered region, by code.
    pub names: HashMap<String, String>,
    /// Regions whose name matches the search text: (code, name).
    pub matched_regions: Vec<(String, String)>,
    /// Whether identity numbers are masked on this page.
    pub masked: bool,
    /// The user may ask for full identity numbers (the toggle is shown).
    pub may_see_full: bool,
}

struct ListRow {
    id: i64,
    household_no: String,
    head_name: String,
    id_number: String,
    village: String,
    status: String,
    monitoring: String,
    members: i32,
    exit_year: String,
}

/// The household list page.
#[derive(Template)]
#[template(path = "households/list.html")]
pub struct ListPage {
    l: Layout,
    /// The list's filters, carried by the export form.
    export_params: Vec<(&'static str, String)>,
    matched_regions: Vec<(String, String)>,
    region: String,
    region_name: String,
    q: String,
    status_options: Vec<(String, String, bool)>,
    monitoring_options: Vec<(String, String, bool)>,
    total: i64,
    total_capped: bool,
    masked: bool,
    may_see_full: bool,
    rows: Vec<ListRow>,
    page: i64,
    pages: i64,
    prev_link: String,
    next_link: String,
}

fn rows(t: &T, list: Vec<HouseholdSummary>, names: &HashMap<String, String>) -> Vec<ListRow> {
    list.into_iter()
        .map(|r| ListRow {
            id: r.id,
            household_no: r.household_no,
            head_name: r.head_name,
            id_number: r.head_id_number,
            village: names
                .get(&r.village_code)
                .cloned()
                .unwrap_or(r.village_code),
            status: t.status(r.status).into(),
            monitoring: if r.monitoring == MonitoringStatus::None {
                String::new()
            } else {
                t.monitoring(r.monitoring).into()
            },
            members: r.member_count,
            exit_year: r.exit_year.map(|y| y.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// Links to the previous and next page ("" where there is none).
fn pager_links(f: &ListFilters, page: i64, pages: i64) -> (String, String) {
    let base = f
        .given()
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let link = |p: i64| {
        format!(
            "/households?{base}{}page={p}",
            if base.is_empty() { "" } else { "&" }
        )
    };
    let prev = if page > 1 {
        link(page - 1)
    } else {
        String::new()
    };
    let next = if page < pages {
        link(page + 1)
    } else {
        String::new()
    };
    (prev, next)
}

fn status_options(t: &T, chosen: Option<RegistryStatus>) -> Vec<(String, String, bool)> {
    RegistryStatus::ALL
        .iter()
        .map(|s| (s.as_str().into(), t.status(*s).into(), Some(*s) == chosen))
        .collect()
}

fn monitoring_options(t: &T, chosen: Option<MonitoringStatus>) -> Vec<(String, String, bool)> {
    MonitoringStatus::ALL
        .iter()
        .map(|m| {
            (
                m.as_str().into(),
                t.monitoring(*m).into(),
                Some(*m) == chosen,
            )
        })
        .collect()
}

impl ListPage {
    /// The page for filters `f` from the use cases' answers.
    pub fn new(l: Layout, f: &ListFilters, d: ListData) -> ListPage {
        let t = l.t.clone();
        let region = f.region.clone().unwrap_or_default();
        let pages = ((d.total + PER_PAGE - 1) / PER_PAGE).max(1);
        // A capped count: there is at least one page after this one.
        let pages = if d.total_capped {
            pages.max(d.page + 1)
        } else {
            pages
        };
        let (prev_link, next_link) = pager_links(f, d.page, pages);
        ListPage {
            export_params: f.given(),
            matched_regions: d.matched_regions,
            region_name: d.names.get(&region).cloned().unwrap_or_default(),
            region,
            q: f.q.clone().unwrap_or_default(),
            status_options: status_options(&t, f.status.as_deref().and_then(RegistryStatus::parse)),
            monitoring_options: monitoring_options(
                &t,
                f.monitoring.as_deref().and_then(MonitoringStatus::parse),
            ),
            total: d.total,
            total_capped: d.total_capped,
            masked: d.masked,
            may_see_full: d.may_see_full,
            rows: rows(&t, d.list, &d.names),
            page: d.page,
            pages,
            prev_link,
            next_link,
            l,
        }
    }
}
