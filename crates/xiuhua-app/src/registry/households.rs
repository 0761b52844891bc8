//! Reading households: one household with its history (now or as of a date, personal data
//! masked for roles without the right to it) and the searchable household list.

use chrono::NaiveDate;
use xiuhua_db::AnyConnection;
use xiuhua_db::households::{HouseholdFilter, HouseholdRow};
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event::{self, Event};
use xiuhua_domain::message::msg;
use xiuhua_domain::{HouseholdState, MonitoringStatus, RegistryStatus};

use crate::{CurrentUser, Error, Result, Services};

/// A household with its history, as of a date or now.
#[derive(Clone, Debug)]
pub struct HouseholdView {
    /// Id.
    pub id: i64,
    /// Current version (for optimistic editing).
    pub version: i64,
    /// The state shown (as of `as_of`, or current).
    pub state: HouseholdState,
    /// The date asked for, if any.
    pub as_of: Option<NaiveDate>,
    /// The whole history, oldest first (fold order).
    pub events: Vec<Event>,
    /// Names of the regions the household lies in, from the county down.
    pub region_names: Vec<(String, String)>,
    /// Whether full identity numbers may be shown to this user.
    pub full_personal_data: bool,
}

/// Reads a household (as of a date, or now) with its history.
pub async fn household(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    as_of: Option<NaiveDate>,
) -> Result<HouseholdView> {
    let not_found = || Error::NotFound {
        what: format!("household {id}"),
    };
    let mut conn = s.db.acquire().await?;
    let row = xiuhua_db::households::find(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    if !user.can_see(&row.village_code) {
        return Err(not_found());
    }
    let mut events = xiuhua_db::events::list_for_household(&mut conn, id).await?;
    let mut state = state_shown(&mut conn, &row, &events, as_of).await?;
    if !user.role.sees_personal_data() {
        // Phones, bank accounts and identity numbers never leave here in full for this role.
        state.mask_personal_data();
        mask_history(&mut events);
    }
    let region_names = region_names(&mut conn, &row, &state).await?;
    Ok(HouseholdView {
        id,
        version: row.version,
        state,
        as_of,
        events,
        region_names,
        full_personal_data: user.role.sees_personal_data(),
    })
}

/// The state as of a date (a fold of the events), or the stored current state.
async fn state_shown(
    conn: &mut AnyConnection,
    row: &HouseholdRow,
    events: &[Event],
    as_of: Option<NaiveDate>,
) -> Result<HouseholdState> {
    let state = match as_of {
        Some(d) => event::state_as_of(events, d).map_err(|e| Error::Unexpected(e.into()))?,
        None => {
            let members = xiuhua_db::members::list_for_household(conn, row.id).await?;
            Some(HouseholdState {
                fields: row.decode_fields()?,
                members: members
                    .iter()
                    .map(MemberRow::decode)
                    .collect::<Result<_, _>>()?,
            })
        }
    };
    Ok(state.unwrap_or_default())
}

/// Masks personal data in the history too: it carries the same values (a phone set, a member
/// added).
fn mask_history(events: &mut [Event]) {
    for e in events {
        if let Ok(mut v) = serde_json::to_value(&e.changes) {
            xiuhua_domain::household::mask_json(&mut v);
            if let Ok(masked) = serde_json::from_value(v) {
                e.changes = masked;
            }
        }
    }
}

/// (code, name) of the county, township, village and group the household lies in (the shown
/// state's village, or the stored one when the state has none, e.g. before it was created).
async fn region_names(
    conn: &mut AnyConnection,
    row: &HouseholdRow,
    state: &HouseholdState,
) -> Result<Vec<(String, String)>> {
    let mut region_names = Vec::new();
    let code = if state.fields.village_code.is_empty() {
        row.village_code.clone()
    } else {
        state.fields.village_code.clone()
    };
    let group = state.fields.group_code.clone();
    for c in [
        Some(code[..6].to_string()),
        Some(code[..9].to_string()),
        Some(code.clone()),
        group,
    ]
    .into_iter()
    .flatten()
    {
        if let Some(r) = xiuhua_db::regions::find(conn, &c).await? {
            region_names.push((r.code, r.name));
        }
    }
    Ok(region_names)
}

/// A row of a household list.
#[derive(Clone, Debug)]
pub struct HouseholdSummary {
    /// Id.
    pub id: i64,
    /// 户编号.
    pub household_no: String,
    /// 户主姓名.
    pub head_name: String,
    /// 户主证件号码 (masked unless the user may see it).
    pub head_id_number: String,
    /// Village code.
    pub village_code: String,
    /// Status.
    pub status: RegistryStatus,
    /// Monitoring status.
    pub monitoring: MonitoringStatus,
    /// 脱贫年度.
    pub exit_year: Option<i32>,
    /// Members.
    pub member_count: i32,
}

/// Search parameters.
#[derive(Clone, Debug, Default)]
pub struct SearchParams {
    /// Region to search in (narrowed to the user's scope).
    pub region: Option<String>,
    /// Name, 户编号 or 身份证号.
    pub text: Option<String>,
    /// Registry status.
    pub status: Option<RegistryStatus>,
    /// Monitoring status.
    pub monitoring: Option<MonitoringStatus>,
    /// 1-based page.
    pub page: i64,
    /// Page size (capped at 500).
    pub per_page: i64,
}

/// The longest search text accepted (characters): names, 户编号 and identity numbers are all
/// far shorter, and a long `LIKE` pattern is only work for the database.
pub const MAX_SEARCH_CHARS: usize = 64;

/// Refuses a search text longer than [`MAX_SEARCH_CHARS`].
pub fn check_search_text(text: Option<&str>) -> Result<()> {
    match text {
        Some(t) if t.trim().chars().count() > MAX_SEARCH_CHARS => Err(Error::invalid(
            "搜索",
            "q",
            "search_too_long",
            msg("search_too_long").arg("max", MAX_SEARCH_CHARS),
        )),
        _ => Ok(()),
    }
}

/// Masks an identity number for users who may not see it in full.
pub fn mask_id(id: &str, full: bool) -> String {
    if full || id.len() < 18 {
        id.to_string()
    } else {
        format!("{}**********{}", &id[..4], &id[14..18])
    }
}

/// Searches households inside the user's region. Returns one page and the total count.
pub async fn search(
    s: &Services,
    user: &CurrentUser,
    p: &SearchParams,
) -> Result<(Vec<HouseholdSummary>, i64)> {
    check_search_text(p.text.as_deref())?;
    let region = user.narrow(p.region.as_deref())?;
    let per_page = p.per_page.clamp(1, 500);
    let f = HouseholdFilter {
        region,
        text: p.text.clone(),
        status: p.status.map(|x| x.as_str().to_string()),
        monitoring: p.monitoring.map(|x| x.as_str().to_string()),
        limit: per_page,
        // Pages past the last are empty; the bound keeps the offset from overflowing.
        offset: (p.page.clamp(1, 1_000_000_000) - 1) * per_page,
    };
    let mut conn = s.db.acquire().await?;
    let rows = xiuhua_db::households::search(&mut conn, &f).await?;
    let total = xiuhua_db::households::count(&mut conn, &f).await?;
    let full = user.role.sees_personal_data();
    let list = rows
        .into_iter()
        .map(|r| HouseholdSummary {
            id: r.id,
            head_id_number: mask_id(&r.head_id_number, full),
            household_no: r.household_no,
            head_name: r.head_name,
            village_code: r.village_code,
            status: RegistryStatus::parse(&r.status).unwrap_or_default(),
            monitoring: MonitoringStatus::parse(&r.monitoring).unwrap_or_default(),
            exit_year: r.exit_year,
            member_count: r.member_count,
        })
        .collect();
    Ok((list, total))
}
