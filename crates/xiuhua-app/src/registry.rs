//! The 建档立卡 registry: the write path (every change an event, in the same transaction as
//! the current-state tables), "as of" reads, search, region counts and closed years.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use xiuhua_db::events::{EventRow, format_ts};
use xiuhua_db::households::{CountRow, HouseholdFilter, HouseholdRow, PeriodRow};
use xiuhua_db::members::MemberRow;
use xiuhua_db::regions::RegionRow;
use xiuhua_db::{AnyConnection, ids};
use xiuhua_domain::event::{self, Change, Event, EventKind, Period, SourceKind};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::validate::parse_member_id_number;
use xiuhua_domain::{
    FieldError, HouseholdFields, HouseholdState, Member, MonitoringStatus, RegistryStatus,
    validate_household,
};

use crate::{CurrentUser, Error, Result, Services};

/// Who/when/why/where of a change.
#[derive(Clone, Debug)]
pub struct ChangeMeta {
    /// From which date the change is true.
    pub effective_date: NaiveDate,
    /// Why (required for corrections).
    pub reason: String,
    /// Where it came from.
    pub source: SourceKind,
    /// File name + hash + row, department batch, workflow step.
    pub source_ref: Option<String>,
    /// An explicit correction of a closed year.
    pub correction: bool,
}

impl ChangeMeta {
    /// A manual change effective on `date`.
    pub fn manual(date: NaiveDate, reason: impl Into<String>) -> ChangeMeta {
        ChangeMeta {
            effective_date: date,
            reason: reason.into(),
            source: SourceKind::Manual,
            source_ref: None,
            correction: false,
        }
    }
}

/// Fills the fields derived from a member's identity number (normalised number, sex, birth
/// date) and checks it.
pub fn prepare_member(m: &mut Member) -> Result<(), FieldError> {
    let id = parse_member_id_number(&m.id_number).map_err(|(zh, en)| {
        FieldError::new(
            format!("成员 {} ({})", m.name, m.id_number),
            "id_number",
            "invalid_id_number",
            zh,
            en,
        )
    })?;
    let tail = if m.id_number.trim().len() == 20 {
        &m.id_number.trim()[18..]
    } else {
        ""
    };
    m.id_number = format!("{}{}", id.as_str(), tail);
    m.sex = id.sex().code().to_string();
    m.birth_date = id.birth_date();
    Ok(())
}

/// Builds the stored rows of a household state.
pub fn household_row(
    id: i64,
    version: i64,
    s: &HouseholdState,
    created_at: &str,
    updated_at: &str,
) -> Result<HouseholdRow> {
    let head = s.head();
    let f = &s.fields;
    Ok(HouseholdRow {
        county_code: s.county_code().to_string(),
        id,
        township_code: s.township_code().to_string(),
        village_code: f.village_code.clone(),
        group_code: f.group_code.clone(),
        household_no: f.household_no.clone(),
        head_name: head.map(|h| h.name.clone()).unwrap_or_default(),
        head_id_number: head.map(|h| h.id_number.clone()).unwrap_or_default(),
        status: f.status.as_str().into(),
        monitoring: f.monitoring.as_str().into(),
        monitor_type: f.monitor_type.clone(),
        exit_year: f.exit_year,
        member_count: s.members.len() as i32,
        version,
        fields: xiuhua_domain::compact::to_string(f).context("encode household fields")?,
        created_at: created_at.into(),
        updated_at: updated_at.into(),
    })
}

/// Builds the stored period rows of a household.
pub fn period_rows(county: &str, household_id: i64, periods: &[Period]) -> Vec<PeriodRow> {
    periods
        .iter()
        .map(|p| PeriodRow {
            county_code: county.to_string(),
            household_id,
            valid_from: p.valid_from.to_string(),
            valid_to: p.valid_to.map(|d| d.to_string()),
            township_code: p.village_code.get(..9).unwrap_or("").to_string(),
            village_code: p.village_code.clone(),
            status: p.status.as_str().into(),
            monitoring: p.monitoring.as_str().into(),
            members: p.members as i32,
        })
        .collect()
}

/// Checks the closed-year rule for a new event of `county`.
async fn check_closed_year(
    conn: &mut AnyConnection,
    county: &str,
    meta: &ChangeMeta,
    record: &str,
) -> Result<()> {
    let Some(closed) = xiuhua_db::years::latest_closed(conn, county).await? else {
        return Ok(());
    };
    if meta.effective_date.year() > closed {
        return Ok(());
    }
    if !meta.correction {
        return Err(Error::conflict(
            "closed_year",
            format!(
                "{record}：{closed}年度动态调整已结束，不能修改{}的数据；如确需更正，请以“更正”方式提交并说明原因",
                meta.effective_date
            ),
            format!(
                "{record}: year {closed} is closed; a change effective {} needs an explicit correction with a reason",
                meta.effective_date
            ),
        ));
    }
    if meta.reason.trim().is_empty() {
        return Err(Error::invalid(
            record,
            "reason",
            "required",
            "更正已结束年度的数据必须填写原因",
            "a correction of a closed year needs a reason",
        ));
    }
    Ok(())
}

/// Refuses identity numbers already held by a member of another household, naming both.
async fn check_id_numbers(
    conn: &mut AnyConnection,
    household_id: i64,
    state: &HouseholdState,
) -> Result<()> {
    let mut errs = Vec::new();
    for m in &state.members {
        if let Some((other, other_no)) =
            xiuhua_db::members::find_by_id_number(conn, &m.id_number).await?
            && other.household_id != household_id
        {
            errs.push(FieldError::new(
                format!("成员 {} ({})", m.name, m.id_number),
                "id_number",
                "id_number_taken",
                format!("身份证号{}已登记在户{}（成员{}），同一人不能同时属于户{}", m.id_number, other_no, other.name, state.fields.household_no),
                format!(
                    "identity number {} already belongs to {} in household {}; it cannot also be in household {}",
                    m.id_number, other.name, other_no, state.fields.household_no
                ),
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errs))
    }
}

/// Appends one event to a household (or creates it) and rewrites its current state, members
/// and periods, all in the caller's transaction.
#[expect(
    clippy::too_many_arguments,
    reason = "the one private write path; every caller passes all parts of an event"
)]
pub(crate) async fn write_event(
    s: &Services,
    conn: &mut AnyConnection,
    user: &CurrentUser,
    household_id: i64,
    expected_version: Option<i64>,
    kind: EventKind,
    changes: Vec<Change>,
    meta: &ChangeMeta,
) -> Result<HouseholdState> {
    let today = s.clock.today();
    let county = ids::county_of(household_id);
    if meta.effective_date > today {
        return Err(Error::invalid(
            &format!("户 {household_id}"),
            "effective_date",
            "future_date",
            format!("生效日期{}晚于今天{today}", meta.effective_date),
            format!(
                "effective date {} is after today {today}",
                meta.effective_date
            ),
        ));
    }
    let existing = xiuhua_db::households::find(conn, household_id).await?;
    // Outside the user's region, or not there at all: the same answer, before anything else
    // (a version conflict would otherwise show the stored household).
    match &existing {
        Some(h) if !user.can_see(&h.village_code) => {
            return Err(Error::NotFound {
                what: format!("household {household_id}"),
            });
        }
        None if kind != EventKind::Created => {
            return Err(Error::NotFound {
                what: format!("household {household_id}"),
            });
        }
        _ => {}
    }
    let mut events = xiuhua_db::events::list_for_household(conn, household_id).await?;
    let record = match &existing {
        Some(h) => format!("户 {}", h.household_no),
        None => "新户".to_string(),
    };
    if let (Some(h), Some(v)) = (&existing, expected_version)
        && h.version != v
    {
        // Both versions, so the second editor can merge instead of overwriting: the stored state
        // now, the changes made since the version they edited (who, when, what), and theirs.
        let mut by_id: Vec<&Event> = events.iter().collect();
        by_id.sort_by_key(|e| e.id);
        let since: Vec<serde_json::Value> = by_id
            .iter()
            .skip(usize::try_from(v).unwrap_or(0))
            .map(|e| {
                serde_json::json!({
                    "actor": e.actor,
                    "recorded_at": e.recorded_at,
                    "effective_date": e.effective_date,
                    "kind": e.kind.as_str(),
                    "reason": e.reason,
                    "changes": e.changes,
                })
            })
            .collect();
        let current = event::fold(events.iter()).ok().flatten();
        return Err(Error::Conflict {
            code: "stale_version",
            message_zh: format!(
                "{record}已被他人修改（当前版本{}，您编辑的是版本{v}），请对照两个版本后重新提交",
                h.version
            ),
            message_en: format!(
                "{record} was changed by someone else (version {} now, you edited {v})",
                h.version
            ),
            details: Some(serde_json::json!({
                "current_version": h.version,
                "your_version": v,
                "current": current,
                "changes_since_your_version": since,
                "yours": changes,
            })),
        });
    }
    check_closed_year(conn, &county, meta, &record).await?;
    let event_id = ids::reserve_county(conn, "event", &county, 1).await?;
    let kind = if meta.correction {
        EventKind::Correction
    } else {
        kind
    };
    let ev = Event {
        id: event_id,
        household_id,
        kind,
        actor: user.username.clone(),
        recorded_at: s.clock.now(),
        effective_date: meta.effective_date,
        reason: meta.reason.clone(),
        source: meta.source,
        source_ref: meta.source_ref.clone(),
        changes,
    };
    events.push(ev.clone());
    event::sort_for_fold(&mut events);
    let state = event::fold(&events)
        .map_err(|e| {
            Error::invalid(
                &record,
                "changes",
                "bad_change",
                format!("变更无法应用：{e}"),
                e.to_string(),
            )
        })?
        .ok_or_else(|| Error::NotFound {
            what: format!("household {household_id}"),
        })?;
    if !user.can_see(&state.fields.village_code) {
        return Err(Error::NotFound {
            what: format!("household {household_id}"),
        });
    }
    if state.county_code() != county {
        return Err(Error::invalid(
            &record,
            "village_code",
            "other_county",
            "不能把户迁到其他县",
            "a household cannot move to another county",
        ));
    }
    let errs = validate_household(&state, &s.codes(), today);
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    xiuhua_db::members::delete_for_household(conn, household_id).await?;
    check_id_numbers(conn, household_id, &state).await?;
    let now = format_ts(s.clock.now());
    let version = events.len() as i64;
    let new_row_counts = (
        state.fields.village_code.clone(),
        state.fields.status.as_str(),
        state.fields.monitoring.as_str(),
    );
    match &existing {
        Some(h) => {
            let row = household_row(household_id, version, &state, &h.created_at, &now)?;
            xiuhua_db::households::update(conn, &row, h.version).await?;
            let people = i64::from(h.member_count);
            xiuhua_db::households::adjust_counts(
                conn,
                &h.village_code,
                &h.status,
                &h.monitoring,
                -1,
                -people,
            )
            .await?;
        }
        None => {
            let row = household_row(household_id, version, &state, &now, &now)?;
            if xiuhua_db::households::find_by_no(conn, &county, &row.household_no)
                .await?
                .is_some()
            {
                return Err(Error::conflict(
                    "household_no_taken",
                    format!("户编号{}已存在", row.household_no),
                    format!("household number {} exists", row.household_no),
                ));
            }
            xiuhua_db::households::insert_many(conn, &[row]).await?;
        }
    }
    let (village, status, monitoring) = new_row_counts;
    xiuhua_db::households::adjust_counts(
        conn,
        &village,
        status,
        monitoring,
        1,
        state.members.len() as i64,
    )
    .await?;
    let member_rows: Vec<MemberRow> = state
        .members
        .iter()
        .map(|m| MemberRow::from_member(&county, household_id, m))
        .collect::<Result<_, _>>()?;
    xiuhua_db::members::insert_many(conn, &member_rows).await?;
    xiuhua_db::events::insert_many(conn, &[EventRow::from_event(&county, &ev)?]).await?;
    let periods = event::periods(&events).map_err(|e| Error::Unexpected(e.into()))?;
    xiuhua_db::households::replace_periods(
        conn,
        household_id,
        &period_rows(&county, household_id, &periods),
    )
    .await?;
    Ok(state)
}

async fn assign_member_ids(
    conn: &mut AnyConnection,
    county: &str,
    members: &mut [Member],
) -> Result<()> {
    let mut errs = Vec::new();
    for m in members.iter_mut() {
        if let Err(e) = prepare_member(m) {
            errs.push(e);
        }
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let first = ids::reserve_county(conn, "member", county, members.len() as i64).await?;
    for (i, m) in members.iter_mut().enumerate() {
        m.id = first + i as i64;
    }
    Ok(())
}

/// Registers a new household (建档). Returns its id.
pub async fn register_household(
    s: &Services,
    user: &CurrentUser,
    fields: HouseholdFields,
    mut members: Vec<Member>,
    meta: &ChangeMeta,
) -> Result<i64> {
    user.require_write()?;
    if !user.can_see(&fields.village_code) {
        return Err(Error::Forbidden(format!(
            "village {} is outside your region",
            fields.village_code
        )));
    }
    let county = fields.village_code.get(..6).unwrap_or("").to_string();
    if county.len() != 6
        || xiuhua_db::regions::find(&mut *s.db.acquire().await?, &fields.village_code)
            .await?
            .is_none()
    {
        return Err(Error::invalid(
            &format!("户 {}", fields.household_no),
            "village_code",
            "unknown_region",
            format!("行政村代码{}不存在", fields.village_code),
            format!("unknown village code {}", fields.village_code),
        ));
    }
    let mut tx = s.db.begin().await?;
    let id = ids::reserve_county(&mut tx, "household", &county, 1).await?;
    assign_member_ids(&mut tx, &county, &mut members).await?;
    write_event(
        s,
        &mut tx,
        user,
        id,
        None,
        EventKind::Created,
        vec![Change::Create { fields, members }],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(id)
}

/// Writes one change to an existing household in its own transaction.
async fn change_one(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    kind: EventKind,
    change: Change,
    meta: &ChangeMeta,
) -> Result<()> {
    user.require_write()?;
    let mut tx = s.db.begin().await?;
    write_event(
        s,
        &mut tx,
        user,
        id,
        Some(expected_version),
        kind,
        vec![change],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(())
}

/// Sets household fields (信息变更 or 状态变更). Returns the new version.
pub async fn edit_household(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    patch: FieldPatch,
    meta: &ChangeMeta,
) -> Result<i64> {
    user.require_write()?;
    let status_keys = [
        "status",
        "exit_year",
        "exit_batch",
        "monitoring",
        "monitor_type",
    ];
    let kind = if patch.keys().any(|k| status_keys.contains(&k.as_str())) {
        EventKind::StatusChanged
    } else {
        EventKind::Edited
    };
    change_one(
        s,
        user,
        id,
        expected_version,
        kind,
        Change::SetFields { patch },
        meta,
    )
    .await?;
    Ok(expected_version + 1)
}

/// Adds a member (新增成员: 新生儿, 嫁入 …).
pub async fn add_member(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    mut member: Member,
    reason_code: Option<String>,
    meta: &ChangeMeta,
) -> Result<i64> {
    user.require_write()?;
    let mut tx = s.db.begin().await?;
    let county = ids::county_of(id);
    assign_member_ids(&mut tx, &county, std::slice::from_mut(&mut member)).await?;
    let mid = member.id;
    let change = Change::AddMember {
        member,
        reason_code,
    };
    write_event(
        s,
        &mut tx,
        user,
        id,
        Some(expected_version),
        EventKind::MemberAdded,
        vec![change],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(mid)
}

/// Sets a member's fields.
pub async fn update_member(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    member_id: i64,
    patch: FieldPatch,
    meta: &ChangeMeta,
) -> Result<()> {
    let change = Change::UpdateMember { member_id, patch };
    change_one(
        s,
        user,
        id,
        expected_version,
        EventKind::MemberEdited,
        change,
        meta,
    )
    .await
}

/// Removes a member (死亡, 嫁出, 其他转出 …).
pub async fn remove_member(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    member_id: i64,
    reason_code: Option<String>,
    meta: &ChangeMeta,
) -> Result<()> {
    let change = Change::RemoveMember {
        member_id,
        reason_code,
    };
    change_one(
        s,
        user,
        id,
        expected_version,
        EventKind::MemberRemoved,
        change,
        meta,
    )
    .await
}

/// Moves a member from one household to another (分户/合户, marriage within the county): an
/// out-event on the first and an in-event on the second, in one transaction.
pub async fn move_member(
    s: &Services,
    user: &CurrentUser,
    from: i64,
    to: i64,
    member_id: i64,
    new_relation: &str,
    meta: &ChangeMeta,
) -> Result<()> {
    user.require_write()?;
    let mut tx = s.db.begin().await?;
    let members = xiuhua_db::members::list_for_household(&mut tx, from).await?;
    let row = members
        .iter()
        .find(|m| m.id == member_id)
        .ok_or_else(|| Error::NotFound {
            what: format!("member {member_id}"),
        })?;
    let mut member = row.decode()?;
    member.relation = new_relation.to_string();
    if ids::county_of(to) != ids::county_of(from) {
        // Ids embed the county; a member moving county gets a new id there.
        member.id = ids::reserve_county(&mut tx, "member", &ids::county_of(to), 1).await?;
    }
    let out = Change::RemoveMember {
        member_id,
        reason_code: Some("08".into()),
    };
    write_event(
        s,
        &mut tx,
        user,
        from,
        None,
        EventKind::MemberMovedOut,
        vec![out],
        meta,
    )
    .await?;
    let inn = Change::AddMember {
        member,
        reason_code: Some("07".into()),
    };
    write_event(
        s,
        &mut tx,
        user,
        to,
        None,
        EventKind::MemberMovedIn,
        vec![inn],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(())
}

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
    let state = match as_of {
        Some(d) => event::state_as_of(&events, d).map_err(|e| Error::Unexpected(e.into()))?,
        None => {
            let members = xiuhua_db::members::list_for_household(&mut conn, id).await?;
            Some(HouseholdState {
                fields: row.decode_fields()?,
                members: members
                    .iter()
                    .map(MemberRow::decode)
                    .collect::<Result<_, _>>()?,
            })
        }
    };
    let mut state = state.unwrap_or_default();
    if !user.role.sees_personal_data() {
        // Phones, bank accounts and identity numbers never leave here in full for this role.
        state.mask_personal_data();
        for e in &mut events {
            // The history carries the same values (a phone set, a member added).
            if let Ok(mut v) = serde_json::to_value(&e.changes) {
                xiuhua_domain::household::mask_json(&mut v);
                if let Ok(masked) = serde_json::from_value(v) {
                    e.changes = masked;
                }
            }
        }
    }
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
        if let Some(r) = xiuhua_db::regions::find(&mut conn, &c).await? {
            region_names.push((r.code, r.name));
        }
    }
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

/// Closes a year's 年度动态调整 for a county: freezes its snapshot; later edits effective in
/// that year or before need an explicit correction.
pub async fn close_year(s: &Services, user: &CurrentUser, county: &str, year: i32) -> Result<u64> {
    user.require_county()?;
    if !user.can_see(county) {
        return Err(Error::NotFound {
            what: format!("county {county}"),
        });
    }
    if year >= s.clock.today().year() {
        return Err(Error::invalid(
            county,
            "year",
            "year_not_over",
            format!("{year}年尚未结束，不能关闭"),
            format!("year {year} is not over yet"),
        ));
    }
    let mut tx = s.db.begin().await?;
    if let Some(y) = xiuhua_db::years::latest_closed(&mut tx, county).await?
        && y >= year
    {
        return Err(Error::conflict(
            "already_closed",
            format!("{y}年度已关闭"),
            format!("year {y} is already closed"),
        ));
    }
    let n = xiuhua_db::years::close(
        &mut tx,
        county,
        year,
        &format_ts(s.clock.now()),
        &user.username,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(n)
}
