//! Closing a year's 年度动态调整: the year-end counts are frozen in `year_snapshots`, and later
//! changes effective in that year need an explicit correction (checked by `write_event`).

use chrono::Datelike;
use xiuhua_db::events::format_ts;
use xiuhua_domain::message::msg;

use crate::{CurrentUser, Error, Result, Services};

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
            msg("year_not_over").arg("year", year),
        ));
    }
    let mut tx = s.db.begin().await?;
    if let Some(y) = xiuhua_db::years::latest_closed(&mut tx, county).await?
        && y >= year
    {
        // Years close in order, each once: say which ones can be closed now.
        let last = s.clock.today().year() - 1;
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
