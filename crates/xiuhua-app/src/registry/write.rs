//! `write_event`, the one write path of the registry: a change is an event appended to the
//! household's history, and the current-state rows (household, members, counts, periods) are
//! rewritten from the fold of all its events, in the caller's transaction.

use chrono::Datelike;
use xiuhua_db::AnyConnection;
use xiuhua_db::events::{EventRow, format_ts};
use xiuhua_db::ids;
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event::{self, Change, Event, EventKind};
use xiuhua_domain::{FieldError, HouseholdState, validate_household};

use super::{ChangeMeta, household_row, period_rows};
use crate::{CurrentUser, Error, Result, Services};

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
