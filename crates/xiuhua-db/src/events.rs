//! The `events` table: the append-only registry history.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;
use xiuhua_domain::event::{Change, Event, EventKind, SourceKind};

use crate::sql::{Arg, insert_rows};
use crate::{Error, Result, ids};

/// A stored event.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    /// County code.
    pub county_code: String,
    /// Event id.
    pub id: i64,
    /// Household id.
    pub household_id: i64,
    /// Kind (storage form).
    pub kind: String,
    /// Who.
    pub actor: String,
    /// RFC 3339 UTC.
    pub recorded_at: String,
    /// ISO date.
    pub effective_date: String,
    /// Why.
    pub reason: String,
    /// Source kind (storage form).
    pub source: String,
    /// Source reference.
    pub source_ref: Option<String>,
    /// JSON array of changes.
    pub changes: String,
}

fn corrupt(what: &'static str, e: impl ToString) -> Error {
    Error::Corrupt {
        what,
        reason: e.to_string(),
    }
}

/// Formats a timestamp in the fixed-width stored form.
pub fn format_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl EventRow {
    /// Encodes a domain event.
    pub fn from_event(county: &str, e: &Event) -> Result<EventRow> {
        Ok(EventRow {
            county_code: county.to_string(),
            id: e.id,
            household_id: e.household_id,
            kind: e.kind.as_str().to_string(),
            actor: e.actor.clone(),
            recorded_at: format_ts(e.recorded_at),
            effective_date: e.effective_date.to_string(),
            reason: e.reason.clone(),
            source: e.source.as_str().to_string(),
            source_ref: e.source_ref.clone(),
            changes: xiuhua_domain::compact::to_string(&e.changes)
                .map_err(|x| corrupt("events.changes", x))?,
        })
    }

    /// Decodes into a domain event.
    pub fn decode(&self) -> Result<Event> {
        let changes: Vec<Change> =
            serde_json::from_str(&self.changes).map_err(|x| corrupt("events.changes", x))?;
        Ok(Event {
            id: self.id,
            household_id: self.household_id,
            kind: EventKind::parse(&self.kind).ok_or_else(|| corrupt("events.kind", &self.kind))?,
            actor: self.actor.clone(),
            recorded_at: DateTime::parse_from_rfc3339(&self.recorded_at)
                .map_err(|x| corrupt("events.recorded_at", x))?
                .with_timezone(&Utc),
            effective_date: self
                .effective_date
                .parse::<NaiveDate>()
                .map_err(|x| corrupt("events.effective_date", x))?,
            reason: self.reason.clone(),
            source: SourceKind::parse(&self.source)
                .ok_or_else(|| corrupt("events.source", &self.source))?,
            source_ref: self.source_ref.clone(),
            changes,
        })
    }
}

impl EventRow {
    /// The bind values in the order of the insert columns.
    pub(crate) fn args(&self) -> Vec<Arg> {
        vec![
            self.county_code.clone().into(),
            self.id.into(),
            self.household_id.into(),
            self.kind.clone().into(),
            self.actor.clone().into(),
            self.recorded_at.clone().into(),
            self.effective_date.clone().into(),
            self.reason.clone().into(),
            self.source.clone().into(),
            self.source_ref.clone().into(),
            self.changes.clone().into(),
        ]
    }
}

/// The columns of an insert, in the order of [`EventRow::args`].
pub(crate) const COLS: &str = "county_code, id, household_id, kind, actor, recorded_at, effective_date, reason, source, source_ref, changes";

/// Appends events.
pub async fn insert_many(conn: &mut AnyConnection, rows: &[EventRow]) -> Result<u64> {
    let args: Vec<Vec<Arg>> = rows.iter().map(EventRow::args).collect();
    insert_rows(conn, &format!("INSERT INTO events ({COLS})"), "", args).await
}

/// All events of a household in fold order (effective date, then id).
pub async fn list_for_household(conn: &mut AnyConnection, household_id: i64) -> Result<Vec<Event>> {
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM events WHERE county_code = $1 AND household_id = $2 ORDER BY effective_date, id"
    )))
    .bind(ids::county_of(household_id))
    .bind(household_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(EventRow::decode).collect()
}

/// Number of stored events.
pub async fn total(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(conn)
        .await?)
}

/// Number of events with this source reference (e.g. an import file hash).
pub async fn count_by_source_ref(conn: &mut AnyConnection, source_ref_prefix: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE source_ref LIKE $1")
            .bind(format!("{source_ref_prefix}%"))
            .fetch_one(conn)
            .await?,
    )
}

/// The events of several households of one county, each list in fold order.
pub async fn list_for_households(
    conn: &mut AnyConnection,
    county: &str,
    household_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<Event>>> {
    let mut out: std::collections::HashMap<i64, Vec<Event>> = std::collections::HashMap::new();
    if household_ids.is_empty() {
        return Ok(out);
    }
    let mut sql = crate::sql::Sql::new(&format!("SELECT {COLS} FROM events WHERE county_code = "));
    sql.bind(county).push(" AND household_id IN (");
    for (i, id) in household_ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(") ORDER BY household_id, effective_date, id");
    let rows: Vec<EventRow> = sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?;
    for r in &rows {
        out.entry(r.household_id).or_default().push(r.decode()?);
    }
    Ok(out)
}
