//! Reading households: one household with its history (now or as of a date, personal data
//! masked for roles without the right to it) and the searchable household list.

use chrono::NaiveDate;
use xiuhua_db::AnyConnection;
use xiuhua_db::households::{HouseholdFilter, HouseholdRow};
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event::{self, Event};
use xiuhua_domain::message::msg;
use xiuhua_domain::{HouseholdState, MonitoringStatus, RegistryStatus};

use crate::audit::{self, AuditAction};
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
    /// The state unmasked, when `state` is masked: what rules evaluate (only the display is
    /// masked). Never shown; see [`HouseholdView::real_state`].
    real: Option<HouseholdState>,
}

impl HouseholdView {
    /// The state as stored, unmasked, for evaluating rules: an identity-number check must not
    /// run on a masked number. Crate-private: what is shown is `state`.
    pub(crate) fn real_state(&self) -> &HouseholdState {
        self.real.as_ref().unwrap_or(&self.state)
    }
}

/// Reads a household (as of a date, or now) with its history.
pub async fn household(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    as_of: Option<NaiveDate>,
) -> Result<HouseholdView> {
    crate::clock::check_as_of(s.clock.as_ref(), as_of)?;
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
    let mut real = None;
    if !user.role.sees_personal_data() {
        // Phones, bank accounts, identity numbers and birth dates never leave here in full for
        // this role.
        real = Some(state.clone());
        state.mask_personal_data();
        events
            .iter_mut()
            .flat_map(|e| e.changes.iter_mut())
            .for_each(|c| c.mask_personal_data());
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
        real,
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

/// An identity number as shown: in full (`full`), else masked by the one rule
/// ([`xiuhua_domain::household::mask_id_number`]).
pub fn mask_id(id: &str, full: bool) -> String {
    if full {
        id.to_string()
    } else {
        xiuhua_domain::household::mask_id_number(id)
    }
}

/// Lookups by full identity number one user may make per minute ([`search`]).
pub const ID_SEARCHES_PER_MINUTE: usize = 60;

/// What a search text is, as far as identity numbers go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdQuery {
    /// Not about identity numbers.
    No,
    /// A whole identity number (18 characters, a 20-character disability card number, or
    /// anything with the check character X): the search compares members' numbers.
    Full,
    /// Six or more digits that cannot begin a household number of the user's region: a
    /// fragment of an identity number (a birth date, a sequence).
    Fragment,
}

/// Classifies a search text for `user` (household numbers begin with their village's code).
fn id_query(text: &str, user: &CurrentUser) -> IdQuery {
    let t = text.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x')
    {
        return IdQuery::No;
    }
    if t.len() >= 18 || t.bytes().any(|b| b == b'X' || b == b'x') {
        return IdQuery::Full;
    }
    let region = user.region_code.as_str();
    let household_prefix = t.starts_with(region) || region.starts_with(t);
    if t.len() >= 6 && !household_prefix {
        IdQuery::Fragment
    } else {
        IdQuery::No
    }
}

/// Refuses a search by identity number to a user who may not see full numbers (a lookup would
/// confirm a guessed number; a fragment would narrow one down), and logs and rate-limits the
/// lookups of users who may. Both refusals and lookups go into the access log.
async fn check_id_search(s: &Services, user: &CurrentUser, text: &str, client: &str) -> Result<()> {
    let kind = id_query(text, user);
    if kind == IdQuery::No {
        return Ok(());
    }
    let target = text.trim();
    if !user.role.sees_personal_data() {
        audit::record(
            s,
            &user.username,
            AuditAction::SearchIdNumberRefused,
            target,
            if kind == IdQuery::Full {
                "full"
            } else {
                "fragment"
            },
            client,
        )
        .await?;
        return Err(Error::Refused {
            code: "id_search_forbidden",
            message: msg("id_search_forbidden"),
        });
    }
    if kind == IdQuery::Fragment {
        // Fragments only ever match household numbers for this user too.
        return Ok(());
    }
    let since = s.clock.now() - chrono::Duration::minutes(1);
    let recent = audit::count_recent(
        s,
        &user.username,
        AuditAction::SearchIdNumber,
        since,
        ID_SEARCHES_PER_MINUTE,
    )
    .await?;
    if recent >= ID_SEARCHES_PER_MINUTE {
        return Err(Error::RateLimited {
            message: msg("id_search_rate_limited").arg("limit", ID_SEARCHES_PER_MINUTE),
        });
    }
    audit::record(
        s,
        &user.username,
        AuditAction::SearchIdNumber,
        target,
        "",
        client,
    )
    .await
}

/// Searches households inside the user's region. Returns one page and the total count.
///
/// A search by identity number needs the right to see full numbers and is logged and
/// rate-limited ([`search_from`] with the client's address).
pub async fn search(
    s: &Services,
    user: &CurrentUser,
    p: &SearchParams,
) -> Result<(Vec<HouseholdSummary>, i64)> {
    search_from(s, user, p, "").await
}

/// [`search`] by a client at `client` (its address goes into the access log). Identity numbers
/// are masked for everyone ([`search_shown`] shows them in full to those who may see them).
pub async fn search_from(
    s: &Services,
    user: &CurrentUser,
    p: &SearchParams,
    client: &str,
) -> Result<(Vec<HouseholdSummary>, i64)> {
    search_shown(s, user, p, client, false).await
}

/// [`search_from`], with the heads' identity numbers in full when `full_ids` is asked for and
/// the user may see them (`Role::sees_personal_data`; a user who may not gets them masked). A
/// page shown in full is an access-log entry (`view_personal_list`) naming its households.
pub async fn search_shown(
    s: &Services,
    user: &CurrentUser,
    p: &SearchParams,
    client: &str,
    full_ids: bool,
) -> Result<(Vec<HouseholdSummary>, i64)> {
    search_inner(s, user, p, client, full_ids, true, None).await
}

/// The household list counts its matches up to this many (or to the end of the page asked,
/// when further): a bare surname borne by a third of a county is "1,000+ 户", not a count of
/// 100,000 rows on every page.
pub const LIST_COUNT_CAP: i64 = 1000;

/// The count bound of a list page of `p`: [`LIST_COUNT_CAP`], or the end of the page when it
/// lies further (so the next page's link is known).
pub fn list_count_bound(p: &SearchParams) -> i64 {
    let per_page = p.per_page.clamp(1, 500);
    let end = p.page.clamp(1, 1_000_000_000) * per_page;
    LIST_COUNT_CAP.max(end)
}

/// The search behind [`search_shown`]; `log_full_page`: record a page shown in full (the list
/// export records the whole export once instead).
pub(crate) async fn search_inner(
    s: &Services,
    user: &CurrentUser,
    p: &SearchParams,
    client: &str,
    full_ids: bool,
    log_full_page: bool,
    count_cap: Option<i64>,
) -> Result<(Vec<HouseholdSummary>, i64)> {
    check_search_text(p.text.as_deref())?;
    let region = user.narrow(p.region.as_deref())?;
    if let Some(t) = p.text.as_deref() {
        check_id_search(s, user, t, client).await?;
    }
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
    let total = match count_cap {
        Some(cap) => xiuhua_db::households::count_capped(&mut conn, &f, cap).await?,
        None => xiuhua_db::households::count(&mut conn, &f).await?,
    };
    let full = full_ids && user.role.sees_personal_data();
    if full && log_full_page && !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
        audit::record(
            s,
            &user.username,
            AuditAction::ViewPersonalList,
            f.region.as_str(),
            &format!(
                "q={} page={} households={}",
                p.text.as_deref().unwrap_or(""),
                p.page,
                ids.join(",")
            ),
            client,
        )
        .await?;
    }
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
