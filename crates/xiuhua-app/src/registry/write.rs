//! `write_event`, the one write path of the registry: a change is an event appended to the
//! household's history, and the current-state rows (household, members, counts, periods) are
//! rewritten from the fold of all its events, in the caller's transaction.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use xiuhua_db::AnyConnection;
use xiuhua_db::events::{EventRow, format_ts};
use xiuhua_db::households::HouseholdRow;
use xiuhua_db::ids;
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event::{self, Change, Event, EventKind};
use xiuhua_domain::message::msg;
use xiuhua_domain::{FieldError, HouseholdState, validate_household};

use super::{ChangeMeta, household_row, period_rows};
use crate::{CurrentUser, Error, Result, Services};

/// Checks the closed-year rule for a new event of `county`: a change effective in a closed
/// year is refused unless it is an explicit correction with a reason by a county-level role
/// ([`crate::auth::Role::may_correct_closed_year`]); other roles are told to ask the county.
async fn check_closed_year(
    conn: &mut AnyConnection,
    user: &CurrentUser,
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
    if !user.role.may_correct_closed_year() {
        return Err(Error::conflict(
            "closed_year",
            msg("closed_year_ask_county")
                .arg("record", record)
                .arg("closed", closed)
                .arg("effective_date", meta.effective_date),
        ));
    }
    if !meta.correction {
        return Err(Error::conflict(
            "closed_year",
            msg("closed_year_record_year_closed_closed_change")
                .arg("record", record)
                .arg("closed", closed)
                .arg("effective_date", meta.effective_date),
        ));
    }
    if meta.reason.trim().is_empty() {
        return Err(Error::invalid(
            record,
            "reason",
            "required",
            msg("required_correction_closed_year_needs_reason"),
        ));
    }
    Ok(())
}

/// Refuses identity numbers already held by a member of another household, naming both when
/// the other household lies in the user's region; outside it, saying only that the number is
/// registered elsewhere (no answers across scope).
async fn check_id_numbers(
    conn: &mut AnyConnection,
    user: &CurrentUser,
    household_id: i64,
    state: &HouseholdState,
) -> Result<()> {
    let mut errs = Vec::new();
    for m in &state.members {
        if let Some((other, other_no)) =
            xiuhua_db::members::find_by_id_number(conn, &m.id_number).await?
            && other.household_id != household_id
        {
            let visible = match xiuhua_db::households::find(conn, other.household_id).await? {
                Some(h) => user.can_see(&h.village_code),
                None => false,
            };
            let message = if visible {
                msg("id_number_taken")
                    .arg("id_number", &m.id_number)
                    .arg("other_no", other_no)
                    .arg("name", &other.name)
                    .arg("household_no", &state.fields.household_no)
            } else if user.region_code.get(..6) == Some(other.county_code.as_str()) {
                msg("import_id_number_registered_elsewhere").arg("id_number", &m.id_number)
            } else {
                msg("import_id_number_registered_in_another_county").arg("id_number", &m.id_number)
            };
            errs.push(FieldError::new(
                format!("成员 {} ({})", m.name, m.id_number),
                "id_number",
                "id_number_taken",
                message,
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
///
/// The steps run in this order, and every check comes before the first write: the effective
/// date, the household (in the user's region, or new), its version, the closed year, the fold
/// with the new event, the result's region and county, validation; then the members are
/// rewritten (identity numbers checked against other households in between), the household row
/// and the counts, the event and the periods.
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
    let new = NewEvent {
        household_id,
        expected_version,
        kind,
        changes,
        id: NewId::Reserve,
    };
    let Prepared {
        county,
        existing,
        events,
        ev,
        state,
    } = prepare(s, conn, user, new, meta).await?;
    xiuhua_db::members::delete_for_household(conn, household_id).await?;
    check_id_numbers(conn, user, household_id, &state).await?;
    let now = format_ts(s.clock.now());
    let version = events.len() as i64;
    let row = match &existing {
        Some(h) => household_row(household_id, version, &state, &h.created_at, &now)?,
        None => household_row(household_id, version, &state, &now, &now)?,
    };
    store_row(conn, &county, existing.as_ref(), &row).await?;
    count_in(conn, &state).await?;
    insert_members(conn, &county, household_id, &state).await?;
    xiuhua_db::events::insert_many(conn, &[EventRow::from_event(&county, &ev)?]).await?;
    store_periods(conn, &county, household_id, &events).await?;
    Ok(state)
}

/// Every check [`write_event`] makes, in its order, without writing anything (an import's
/// check phase, which runs on a read transaction). `Ok` means `write_event` would accept the
/// change on the same stored state.
#[expect(clippy::too_many_arguments, reason = "the same parts as write_event")]
pub(crate) async fn check_event(
    s: &Services,
    conn: &mut AnyConnection,
    user: &CurrentUser,
    household_id: i64,
    expected_version: Option<i64>,
    kind: EventKind,
    changes: Vec<Change>,
    meta: &ChangeMeta,
) -> Result<()> {
    let new = NewEvent {
        household_id,
        expected_version,
        kind,
        changes,
        id: NewId::Placeholder,
    };
    let p = prepare(s, conn, user, new, meta).await?;
    check_id_numbers(conn, user, household_id, &p.state).await
}

/// Rewrites a stored household's row, members and periods from its events (after some of them
/// were taken out: an undone import). The village counts are the caller's: recount them once
/// after all households (`households::rebuild_counts`).
pub(crate) async fn rederive(
    s: &Services,
    conn: &mut AnyConnection,
    household_id: i64,
) -> Result<()> {
    let county = ids::county_of(household_id);
    let Some(h) = xiuhua_db::households::find(conn, household_id).await? else {
        return Ok(());
    };
    let events = xiuhua_db::events::list_for_household(conn, household_id).await?;
    let record = format!("户 {}", h.household_no);
    let state = fold_events(&events, household_id, &record)?;
    let now = format_ts(s.clock.now());
    let row = household_row(
        household_id,
        events.len() as i64,
        &state,
        &h.created_at,
        &now,
    )?;
    xiuhua_db::households::update(conn, &row, h.version).await?;
    xiuhua_db::members::delete_for_household(conn, household_id).await?;
    insert_members(conn, &county, household_id, &state).await?;
    store_periods(conn, &county, household_id, &events).await?;
    Ok(())
}

/// How [`prepare`] numbers the new event.
enum NewId {
    /// From the county's event sequence (it will be stored).
    Reserve,
    /// Above every stored id, as a reserved one would be (a check that stores nothing).
    Placeholder,
}

/// The change asked for.
struct NewEvent {
    household_id: i64,
    expected_version: Option<i64>,
    kind: EventKind,
    changes: Vec<Change>,
    id: NewId,
}

/// What the checks found: the stored household, all events with the new one (fold order), the
/// new event and the household's state after it.
struct Prepared {
    county: String,
    existing: Option<HouseholdRow>,
    events: Vec<Event>,
    ev: Event,
    state: HouseholdState,
}

/// The checks of a change, before any write: see [`write_event`].
async fn prepare(
    s: &Services,
    conn: &mut AnyConnection,
    user: &CurrentUser,
    new: NewEvent,
    meta: &ChangeMeta,
) -> Result<Prepared> {
    let NewEvent {
        household_id,
        expected_version,
        kind,
        changes,
        id,
    } = new;
    let today = s.clock.today();
    let county = ids::county_of(household_id);
    check_not_future(household_id, meta, today)?;
    let existing = load_visible(conn, user, household_id, kind).await?;
    let mut events = xiuhua_db::events::list_for_household(conn, household_id).await?;
    let record = match &existing {
        Some(h) => format!("户 {}", h.household_no),
        None => "新户".to_string(),
    };
    if let (Some(h), Some(v)) = (&existing, expected_version) {
        check_version(h, v, &events, &record, &changes)?;
    }
    check_closed_year(conn, user, &county, meta, &record).await?;
    let event_id = match id {
        NewId::Reserve => ids::reserve_county(conn, "event", &county, 1).await?,
        NewId::Placeholder => i64::MAX,
    };
    let ev = new_event(
        event_id,
        household_id,
        kind,
        changes,
        meta,
        user,
        s.clock.now(),
    );
    events.push(ev.clone());
    event::sort_for_fold(&mut events);
    let state = fold_events(&events, household_id, &record)?;
    check_result_scope(user, &state, household_id, &county, &record)?;
    let errs = validate_household(&state, &s.codes(), today);
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    check_household_no(
        conn,
        user,
        existing.as_ref(),
        household_id,
        &state,
        &county,
        &record,
    )
    .await?;
    Ok(Prepared {
        county,
        existing,
        events,
        ev,
        state,
    })
}

/// Whether a 户编号 follows its village: it begins with the village code (`domain.md`: 户编号 =
/// village code + sequence). Administrators are not held to it (they load legacy numbering).
pub(crate) fn household_no_follows_village(
    user: &CurrentUser,
    household_no: &str,
    village_code: &str,
) -> bool {
    user.role == crate::Role::Admin
        || (!village_code.is_empty() && household_no.starts_with(village_code))
}

/// A 户编号 given or changed (or a household moved to another village) must follow the village
/// ([`household_no_follows_village`]), and must not be another household's: that is refused
/// with one message whether or not the other household lies in the user's region, without
/// naming it (a refusal must not confirm which numbers exist elsewhere).
async fn check_household_no(
    conn: &mut AnyConnection,
    user: &CurrentUser,
    existing: Option<&HouseholdRow>,
    household_id: i64,
    state: &HouseholdState,
    county: &str,
    record: &str,
) -> Result<()> {
    let f = &state.fields;
    let changed = existing
        .is_none_or(|h| h.household_no != f.household_no || h.village_code != f.village_code);
    if !changed {
        return Ok(());
    }
    if !household_no_follows_village(user, &f.household_no, &f.village_code) {
        return Err(Error::invalid(
            record,
            "household_no",
            "household_no_village",
            msg("household_no_village")
                .arg("household_no", &f.household_no)
                .arg("village_code", &f.village_code),
        ));
    }
    if let Some(other) = xiuhua_db::households::find_by_no(conn, county, &f.household_no).await?
        && other.id != household_id
    {
        return Err(Error::conflict(
            "household_no_taken",
            msg("household_no_taken").arg("household_no", &f.household_no),
        ));
    }
    Ok(())
}

/// Refuses a change effective after today.
fn check_not_future(household_id: i64, meta: &ChangeMeta, today: NaiveDate) -> Result<()> {
    if meta.effective_date > today {
        return Err(Error::invalid(
            &format!("户 {household_id}"),
            "effective_date",
            "future_date",
            msg("future_date_effective_date_effective_date_after")
                .arg("effective_date", meta.effective_date)
                .arg("today", today),
        ));
    }
    Ok(())
}

/// The stored household, if any. Outside the user's region, or not there at all unless the
/// event creates it: the same `NotFound`, before anything else (a version conflict would
/// otherwise show the stored household).
async fn load_visible(
    conn: &mut AnyConnection,
    user: &CurrentUser,
    household_id: i64,
    kind: EventKind,
) -> Result<Option<HouseholdRow>> {
    let existing = xiuhua_db::households::find(conn, household_id).await?;
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
    Ok(existing)
}

/// Refuses a change made to version `v` when the household is at another one.
fn check_version(
    h: &HouseholdRow,
    v: i64,
    events: &[Event],
    record: &str,
    changes: &[Change],
) -> Result<()> {
    if h.version == v {
        return Ok(());
    }
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
    let message = msg("stale_version")
        .arg("record", record)
        .arg("current", h.version)
        .arg("yours", v);
    Err(Error::Conflict {
        code: "stale_version",
        message,
        details: Some(serde_json::json!({
            "current_version": h.version,
            "your_version": v,
            "current": current,
            "changes_since_your_version": since,
            "yours": changes,
        })),
    })
}

/// The new event: a correction when `meta` says so, else of `kind`; recorded by `user`.
fn new_event(
    id: i64,
    household_id: i64,
    kind: EventKind,
    changes: Vec<Change>,
    meta: &ChangeMeta,
    user: &CurrentUser,
    recorded_at: DateTime<Utc>,
) -> Event {
    let kind = if meta.correction {
        EventKind::Correction
    } else {
        kind
    };
    Event {
        id,
        household_id,
        kind,
        actor: user.username.clone(),
        recorded_at,
        effective_date: meta.effective_date,
        reason: meta.reason.clone(),
        source: meta.source,
        source_ref: meta.source_ref.clone(),
        changes,
    }
}

/// The household's state after all its events (in fold order); a change that cannot apply is
/// the caller's mistake.
fn fold_events(events: &[Event], household_id: i64, record: &str) -> Result<HouseholdState> {
    event::fold(events)
        .map_err(|e| match e {
            // A change dated before the household was registered: say so, with both dates.
            event::FoldError::NotCreated(id) => {
                let at = |pred: &dyn Fn(&Event) -> bool| {
                    events
                        .iter()
                        .find(|ev| pred(ev))
                        .map(|ev| ev.effective_date.to_string())
                        .unwrap_or_default()
                };
                Error::invalid(
                    record,
                    "effective_date",
                    "change_before_created",
                    msg("change_before_created")
                        .arg("date", at(&|ev| ev.id == id))
                        .arg(
                            "created",
                            at(&|ev| {
                                ev.changes
                                    .iter()
                                    .any(|c| matches!(c, Change::Create { .. }))
                            }),
                        ),
                )
            }
            e => Error::invalid(
                record,
                "changes",
                "bad_change",
                msg("bad_change").arg("error", &e),
            ),
        })?
        .ok_or_else(|| Error::NotFound {
            what: format!("household {household_id}"),
        })
}

/// Refuses a result outside the user's region (`NotFound`, as for reads) or in another county.
fn check_result_scope(
    user: &CurrentUser,
    state: &HouseholdState,
    household_id: i64,
    county: &str,
    record: &str,
) -> Result<()> {
    if !user.can_see(&state.fields.village_code) {
        return Err(Error::NotFound {
            what: format!("household {household_id}"),
        });
    }
    if state.county_code() != county {
        return Err(Error::invalid(
            record,
            "village_code",
            "other_county",
            msg("other_county"),
        ));
    }
    Ok(())
}

/// Updates the stored household row (taking it out of the counts it was in), or inserts a new
/// one unless its 户编号 is taken in the county.
async fn store_row(
    conn: &mut AnyConnection,
    county: &str,
    existing: Option<&HouseholdRow>,
    row: &HouseholdRow,
) -> Result<()> {
    match existing {
        Some(h) => {
            xiuhua_db::households::update(conn, row, h.version).await?;
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
            if xiuhua_db::households::find_by_no(conn, county, &row.household_no)
                .await?
                .is_some()
            {
                return Err(Error::conflict(
                    "household_no_taken",
                    msg("household_no_taken").arg("household_no", &row.household_no),
                ));
            }
            xiuhua_db::households::insert_many(conn, std::slice::from_ref(row)).await?;
        }
    }
    Ok(())
}

/// Adds the household and its people to the counts of its village, status and monitoring.
async fn count_in(conn: &mut AnyConnection, state: &HouseholdState) -> Result<()> {
    xiuhua_db::households::adjust_counts(
        conn,
        &state.fields.village_code,
        state.fields.status.as_str(),
        state.fields.monitoring.as_str(),
        1,
        state.members.len() as i64,
    )
    .await?;
    Ok(())
}

/// Inserts the household's member rows (the old ones were deleted before the identity-number
/// check).
async fn insert_members(
    conn: &mut AnyConnection,
    county: &str,
    household_id: i64,
    state: &HouseholdState,
) -> Result<()> {
    let member_rows: Vec<MemberRow> = state
        .members
        .iter()
        .map(|m| MemberRow::from_member(county, household_id, m))
        .collect::<Result<_, _>>()?;
    xiuhua_db::members::insert_many(conn, &member_rows).await?;
    Ok(())
}

/// Rebuilds the household's `household_periods` from all its events.
async fn store_periods(
    conn: &mut AnyConnection,
    county: &str,
    household_id: i64,
    events: &[Event],
) -> Result<()> {
    let periods = event::periods(events).map_err(|e| Error::Unexpected(e.into()))?;
    xiuhua_db::households::replace_periods(
        conn,
        household_id,
        &period_rows(county, household_id, &periods),
    )
    .await?;
    Ok(())
}
