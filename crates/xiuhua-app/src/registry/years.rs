//! Closing a year's 年度动态调整: the year-end counts are frozen in `year_snapshots`, and later
//! changes effective in that year need an explicit correction (checked by `write_event`).

use chrono::{Datelike, NaiveDate};
use xiuhua_db::events::format_ts;
use xiuhua_domain::message::msg;

use super::regions::{Counts, region};
use crate::{CurrentUser, Error, Result, Services};

/// Whether a year can be closed now, and if not, why (defect 14's rule: years close in order,
/// each once, and only when they are over).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closable {
    /// It can be closed now.
    Yes,
    /// It is closed.
    Closed,
    /// The year is not over.
    NotOver,
    /// An earlier year must be closed first.
    EarlierFirst,
}

/// One year of a county as the years page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearStatus {
    /// The year.
    pub year: i32,
    /// When and by whom it was closed (RFC 3339 UTC, user name), if it was.
    pub closed: Option<(String, String)>,
    /// Whether it can be closed now.
    pub closable: Closable,
}

/// The years of a county's 年度动态调整, newest first: every closed year, the years since the
/// last closed one up to the current one (at least the last five when none is closed).
pub async fn years(s: &Services, user: &CurrentUser, county: &str) -> Result<Vec<YearStatus>> {
    check_county(user, county)?;
    let mut conn = s.db.acquire().await?;
    if xiuhua_db::regions::find(&mut conn, county).await?.is_none() {
        return Err(Error::NotFound {
            what: format!("county {county}"),
        });
    }
    let closed = xiuhua_db::years::list_closed(&mut conn, county).await?;
    let current = s.clock.today().year();
    let latest = closed.first().map(|(y, _, _)| *y);
    let first = closed
        .last()
        .map(|(y, _, _)| *y)
        .unwrap_or(current - 5)
        .min(current - 5);
    Ok((first..=current)
        .rev()
        .map(|year| YearStatus {
            year,
            closed: closed
                .iter()
                .find(|(y, _, _)| *y == year)
                .map(|(_, at, by)| (at.clone(), by.clone())),
            closable: closable(latest, year, current),
        })
        .collect())
}

/// Whether `year` can be closed when `latest` is the last closed year and `current` the
/// current one.
fn closable(latest: Option<i32>, year: i32, current: i32) -> Closable {
    match latest {
        Some(y) if year <= y => Closable::Closed,
        _ if year >= current => Closable::NotOver,
        Some(y) if year > y + 1 => Closable::EarlierFirst,
        _ => Closable::Yes,
    }
}

/// The counts closing `year` would freeze for a county (its year-end counts, the numbers the
/// frozen snapshot on the region page shows afterwards), or the refusal closing it would meet.
pub async fn close_year_preview(
    s: &Services,
    user: &CurrentUser,
    county: &str,
    year: i32,
) -> Result<Counts> {
    check_county(user, county)?;
    let mut conn = s.db.acquire().await?;
    let latest = xiuhua_db::years::latest_closed(&mut conn, county).await?;
    drop(conn);
    refuse_unless_closable(s, county, latest, year)?;
    let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Error::NotFound {
        what: format!("year {year}"),
    })?;
    Ok(region(s, user, county, Some(end)).await?.counts)
}

/// The county role and the county inside the user's region.
fn check_county(user: &CurrentUser, county: &str) -> Result<()> {
    user.require_county()?;
    if !user.can_see(county) {
        return Err(Error::NotFound {
            what: format!("county {county}"),
        });
    }
    Ok(())
}

/// The refusal of closing `year` when `latest` is the last closed year, naming the years that
/// can be closed.
fn refuse_unless_closable(
    s: &Services,
    county: &str,
    latest: Option<i32>,
    year: i32,
) -> Result<()> {
    let current = s.clock.today().year();
    if year >= current {
        return Err(Error::invalid(
            county,
            "year",
            "year_not_over",
            msg("year_not_over").arg("year", year),
        ));
    }
    if let Some(y) = latest
        && y >= year
    {
        // Years close in order, each once: say which ones can be closed now.
        let last = current - 1;
        let message = if y >= last {
            msg("already_closed_none_left")
                .arg("year", year)
                .arg("y", y)
                .arg("current", last + 1)
        } else {
            msg("already_closed")
                .arg("year", year)
                .arg("y", y)
                .arg("next", y + 1)
                .arg("last", last)
        };
        return Err(Error::conflict("already_closed", message));
    }
    Ok(())
}

/// Closes a year's 年度动态调整 for a county: freezes its snapshot; later edits effective in
/// that year or before need an explicit correction.
pub async fn close_year(s: &Services, user: &CurrentUser, county: &str, year: i32) -> Result<u64> {
    check_county(user, county)?;
    // A year not over is refused before the write lock is taken.
    refuse_unless_closable(s, county, None, year)?;
    let mut tx = s.db.begin().await?;
    let latest = xiuhua_db::years::latest_closed(&mut tx, county).await?;
    refuse_unless_closable(s, county, latest, year)?;
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

#[cfg(test)]
mod tests {
    use super::{Closable, closable};

    #[test]
    fn only_the_year_after_the_last_closed_one_and_only_a_past_year_can_be_closed() {
        assert_eq!(closable(None, 2020, 2026), Closable::Yes);
        assert_eq!(closable(None, 2026, 2026), Closable::NotOver);
        assert_eq!(closable(Some(2024), 2024, 2026), Closable::Closed);
        assert_eq!(closable(Some(2024), 2020, 2026), Closable::Closed);
        assert_eq!(closable(Some(2024), 2025, 2026), Closable::Yes);
        assert_eq!(closable(Some(2023), 2025, 2026), Closable::EarlierFirst);
        assert_eq!(closable(Some(2025), 2026, 2026), Closable::NotOver);
    }
}
