//! The 建档立卡 registry: the write path (every change an event, in the same transaction as
//! the current-state tables), "as of" reads, search, region counts and closed years.
//!
//! `write` holds `write_event`, the one write path; `changes` and `members` are the use cases
//! that call it; `rows` builds the stored rows (shared with imports, the demo and `check`);
//! `households` reads and searches households, `regions` counts a region now or as of a date,
//! `years` closes a year.

use chrono::NaiveDate;
use xiuhua_domain::event::SourceKind;

mod changes;
pub(crate) mod households;
mod members;
mod regions;
mod rows;
mod write;
mod years;

pub use changes::{edit_household, register_household};
pub use households::{
    HouseholdSummary, HouseholdView, ID_SEARCHES_PER_MINUTE, LIST_COUNT_CAP, MAX_SEARCH_CHARS,
    SearchParams, check_search_text, household, list_count_bound, mask_id, search, search_from,
    search_shown,
};
pub use members::{add_member, change_head, move_member, remove_member, update_member};
pub use regions::{Counts, RegionView, Tally, region};
pub use rows::{household_row, period_rows, prepare_member};
pub(crate) use write::{check_event, household_no_follows_village, rederive, write_event};
pub use years::{Closable, YearStatus, close_year, close_year_preview, years};

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
