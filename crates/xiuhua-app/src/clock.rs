//! The one place that reads the time. Everything else receives "now" from a [`Clock`], so tests
//! and the demo generator run at a fixed date.

use chrono::{DateTime, NaiveDate, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in China (UTC+8), which is what "today" means to users.
    fn today(&self) -> NaiveDate {
        (self.now() + chrono::Duration::hours(8)).date_naive()
    }
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant (tests, reproducible demo data).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// An "as of" date must not be after today: there is no registry of the future (a date in
/// 2030 would otherwise be shown as 历史时点 with today's data).
pub fn check_as_of(clock: &dyn Clock, as_of: Option<NaiveDate>) -> crate::Result<()> {
    let today = clock.today();
    match as_of {
        Some(d) if d > today => Err(crate::Error::invalid(
            "",
            "as_of",
            "as_of_future",
            xiuhua_domain::message::msg("as_of_future")
                .arg("as_of", d)
                .arg("today", today),
        )),
        _ => Ok(()),
    }
}
