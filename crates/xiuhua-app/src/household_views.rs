//! Showing a household to a person: the registry read plus the access-log entry that every view
//! with full identity numbers leaves (who, which household, page or API, from where).

use chrono::NaiveDate;

use crate::audit::{self, AuditAction};
use crate::registry::{self, HouseholdView};
use crate::{CurrentUser, Result, Services};

/// Where a household is shown (goes into the access log's detail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The household page.
    Page,
    /// `GET /api/v1/households/{id}`.
    Api,
}

/// Reads a household (as of a date, or now) for showing it, and records the view in the access
/// log when it carries full identity numbers. `client` is the client's address, when known.
pub async fn view_household(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    as_of: Option<NaiveDate>,
    channel: Channel,
    client: &str,
) -> Result<HouseholdView> {
    let v = registry::household(s, user, id, as_of).await?;
    if v.full_personal_data {
        let detail = match channel {
            Channel::Page => format!(
                "page{}",
                as_of.map(|d| format!(" as_of={d}")).unwrap_or_default()
            ),
            Channel::Api => "api".to_string(),
        };
        audit::record(
            s,
            &user.username,
            AuditAction::ViewPersonal,
            &id.to_string(),
            &detail,
            client,
        )
        .await?;
    }
    Ok(v)
}

/// Everything the household page shows: the household (the view is logged as above), its
/// checklists under the rule sets in force, and its stored rule results.
pub struct HouseholdPageData {
    /// The household as of the date asked for.
    pub view: HouseholdView,
    /// The checklists of the rule sets that apply to it.
    pub checklists: Vec<crate::rules::Checklist>,
    /// Its latest stored rule results: (run, outcome, explanation).
    pub stored: Vec<(
        xiuhua_db::rules::RunRow,
        xiuhua_rules::Outcome,
        Option<String>,
    )>,
}

/// The household page's one use case: [`view_household`], then the checklists and the stored
/// results of the household that was read (none for a household that did not exist yet).
pub async fn household_page(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    as_of: Option<NaiveDate>,
    client: &str,
) -> Result<HouseholdPageData> {
    let view = view_household(s, user, id, as_of, Channel::Page, client).await?;
    if view.state.fields.household_no.is_empty() {
        return Ok(HouseholdPageData {
            view,
            checklists: Vec::new(),
            stored: Vec::new(),
        });
    }
    let checklists = crate::rules::checklists_of(s, &view, &Default::default());
    let stored = crate::rules::results_of(s, &view).await?;
    Ok(HouseholdPageData {
        view,
        checklists,
        stored,
    })
}

/// One page of the household list with what it shows beside it.
pub struct HouseholdList {
    /// The households of the page.
    pub list: Vec<registry::HouseholdSummary>,
    /// How many match in all, or the bound the count stopped at (`total_capped`).
    pub total: i64,
    /// More than `total` match (the count stops at `registry::LIST_COUNT_CAP`).
    pub total_capped: bool,
    /// Names of the villages on the page and of the region asked for, by code.
    pub names: std::collections::HashMap<String, String>,
    /// Regions whose name matches the search text: (code, name).
    pub matched_regions: Vec<(String, String)>,
}

/// The household list page's one use case: the search (by a client at `client`, for the
/// access log of lookups by identity number), the region names it shows, and the regions whose
/// name matches the search text. Identity numbers are masked unless `full_ids` is asked for
/// and the user may see them (`registry::search_shown`, which logs such a page).
pub async fn household_list(
    s: &Services,
    user: &CurrentUser,
    p: &registry::SearchParams,
    client: &str,
    full_ids: bool,
) -> Result<HouseholdList> {
    let bound = registry::list_count_bound(p);
    let (list, total) =
        registry::households::search_inner(s, user, p, client, full_ids, true, Some(bound)).await?;
    let total_capped = total > bound;
    let total = total.min(bound);
    let mut wanted: Vec<String> = list.iter().map(|r| r.village_code.clone()).collect();
    wanted.push(p.region.clone().unwrap_or_default());
    let names = crate::regions::names(s, &wanted).await?;
    let matched_regions = match p.text.as_deref() {
        Some(text) => crate::regions::search(s, user, text, 20)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect(),
        None => Vec::new(),
    };
    Ok(HouseholdList {
        list,
        total,
        total_capped,
        names,
        matched_regions,
    })
}
