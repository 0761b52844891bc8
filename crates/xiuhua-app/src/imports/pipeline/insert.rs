//! New households of an import: ids from the county's blocks, a `Created` event each, and
//! their rows inserted in bulk, queued while the next batch is interpreted.

use xiuhua_db::AnyConnection;
use xiuhua_db::bulk::BulkRows;
use xiuhua_db::events::EventRow;
use xiuhua_db::members::MemberRow;
use xiuhua_domain::HouseholdState;
use xiuhua_domain::event::{self, Change, Event, EventKind, SourceKind};
use xiuhua_domain::message::msg;

use super::{Mode, Run};
use crate::registry::{household_row, period_rows};
use crate::tx_task::{ConnFuture, TxTask};
use crate::{Error, Result};

/// A household that is new to the registry, with the rows it came from.
pub(super) struct NewHousehold {
    pub(super) state: HouseholdState,
    pub(super) first_row: usize,
    pub(super) last_row: usize,
}

impl Run<'_> {
    pub(super) async fn insert_new(&mut self, db: &TxTask, new: Vec<NewHousehold>) -> Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        self.check_closed_year()?;
        if self.mode == Mode::Check {
            self.report.created += new.len();
            self.report.events += new.len();
            return Ok(());
        }
        let n = new.len() as i64;
        let member_count: i64 = new.iter().map(|h| h.state.members.len() as i64).sum();
        let hid = self.ids.take(db, "household", n).await?;
        let mid = self.ids.take(db, "member", member_count).await?;
        let eid = self.ids.take(db, "event", n).await?;
        let rows = self.new_rows(new, hid, mid, eid)?;
        let Mode::Write(run_id) = self.mode else {
            return Ok(());
        };
        let store = self.s.db.clone();
        // Queued: the next batch is interpreted while these are stored. The run's id keys the
        // rows PostgreSQL stages for COPY (its chunks write one after the other).
        db.send(move |conn: &mut AnyConnection| -> ConnFuture<'_, ()> {
            Box::pin(async move {
                xiuhua_db::bulk::insert_bulk(&store, conn, run_id, &rows).await?;
                Ok(())
            })
        })
        .await
    }

    /// New households cannot be effective in a closed year.
    fn check_closed_year(&self) -> Result<()> {
        if let Some(closed) = self.closed_year
            && chrono::Datelike::year(&self.opts.effective_date) <= closed
        {
            return Err(Error::conflict(
                "closed_year",
                msg("closed_year")
                    .arg("closed", closed)
                    .arg("effective_date", self.opts.effective_date),
            ));
        }
        Ok(())
    }

    /// The rows of new households with consecutive ids from `hid`, `mid` and `eid`, each with
    /// its `Created` event.
    fn new_rows(
        &mut self,
        new: Vec<NewHousehold>,
        mut hid: i64,
        mut mid: i64,
        mut eid: i64,
    ) -> Result<BulkRows> {
        let county = self.opts.county.clone();
        let mut out = BulkRows::default();
        let now = xiuhua_db::events::format_ts(self.s.clock.now());
        for NewHousehold {
            mut state,
            first_row: first,
            last_row: last,
        } in new
        {
            for m in state.members.iter_mut() {
                m.id = mid;
                mid += 1;
            }
            let create = Change::Create {
                fields: state.fields.clone(),
                members: state.members.clone(),
            };
            let ev = self.event(hid, eid, EventKind::Created, vec![create], (first, last));
            let evs = [ev];
            out.households
                .push(household_row(hid, 1, &state, &now, &now)?);
            for m in &state.members {
                out.members.push(MemberRow::from_member(&county, hid, m)?);
            }
            out.events.push(EventRow::from_event(&county, &evs[0])?);
            out.periods.extend(period_rows(
                &county,
                hid,
                &event::periods(&evs).map_err(|e| Error::Unexpected(e.into()))?,
            ));
            self.count_new(&state);
            hid += 1;
            eid += 1;
            self.report.created += 1;
            self.report.events += 1;
        }
        Ok(out)
    }

    /// Adds a new household to its village count cell.
    fn count_new(&mut self, state: &HouseholdState) {
        let c = self
            .counts
            .entry((
                state.fields.village_code.clone(),
                state.fields.status.as_str(),
                state.fields.monitoring.as_str(),
            ))
            .or_default();
        c.0 += 1;
        c.1 += state.members.len() as i64;
    }

    /// The event of an import for one household.
    fn event(
        &self,
        household_id: i64,
        id: i64,
        kind: EventKind,
        changes: Vec<Change>,
        rows: (usize, usize),
    ) -> Event {
        Event {
            id,
            household_id,
            kind,
            actor: self.user.username.clone(),
            recorded_at: self.s.clock.now(),
            effective_date: self.opts.effective_date,
            reason: self.opts.reason.clone(),
            source: SourceKind::Import,
            source_ref: Some(self.source_ref(rows.0, rows.1)),
            changes,
        }
    }
}
