//! The write phase's side of the prepared households ([`super::prepared`]): a chunk's
//! households are written as the check prepared them, re-checking only what another writer can
//! have changed since the check's snapshot:
//! - a new household: its 户编号 and its members' identity numbers are looked up again (someone
//!   may have registered either meanwhile);
//! - an existing household: its changes are written with the version they were checked
//!   against, so an edit made since the check refuses them (`stale_version`), and
//!   `write_event` checks its new identity numbers again.
//!
//! Anything refused becomes the run's first problem, which undoes the run.

use std::sync::Arc;

use xiuhua_db::AnyConnection;
use xiuhua_domain::event::{Change, EventKind, SourceKind};
use xiuhua_domain::message::msg;
use xiuhua_xlsx::{Field, SheetHeader};

use super::insert::NewHousehold;
use super::{ImportProblem, Lookups, Origin, Prepared, Run, holder_message};
use crate::tx_task::{ConnFuture, TxTask};
use crate::{Error, Result};

impl Run<'_> {
    /// Adopts the 村民小组 the check phase created (stored by the next `store_chunk`).
    pub(in crate::imports) fn adopt_groups(&mut self, groups: Vec<xiuhua_db::regions::RegionRow>) {
        self.regions.new_groups = groups;
    }

    /// Writes one chunk's prepared households inside the chunk's transaction (`db`). A
    /// household refused by the re-check is recorded as the run's problem and ends the chunk.
    pub(in crate::imports) async fn replay(
        &mut self,
        db: &TxTask,
        entries: Vec<Prepared>,
        sheets: &[Arc<SheetHeader>],
    ) -> Result<()> {
        let (mut nos, mut id_numbers) = (Vec::new(), Vec::new());
        for e in &entries {
            if let Prepared::New { state, .. } = e {
                nos.push(state.fields.household_no.clone());
                id_numbers.extend(
                    state
                        .members
                        .iter()
                        .filter(|m| !m.id_number.is_empty())
                        .map(|m| m.id_number.clone()),
                );
            }
        }
        let county = self.opts.county.clone();
        let found = Lookups::ask_for(db, county, nos, id_numbers)
            .await?
            .get()
            .await?;
        let mut new = Vec::new();
        for e in entries {
            let at = e.origin();
            self.report.rows += at.rows as usize;
            let sheet = &sheets[at.sheet as usize];
            match e {
                Prepared::New {
                    member_rows, state, ..
                } => {
                    if let Some(p) = self.recheck_new(&found, sheet, at, &member_rows, &state) {
                        self.push_problem(p);
                        return Ok(());
                    }
                    new.push(NewHousehold {
                        state: *state,
                        first_row: at.first_row as usize,
                        last_row: at.last_row as usize,
                    });
                }
                Prepared::Update {
                    id,
                    version,
                    kind,
                    changes,
                    ..
                } => {
                    self.replay_update(db, sheet, at, id, version, kind, changes)
                        .await?;
                    if self.has_problems() {
                        return Ok(());
                    }
                }
                Prepared::Unchanged { .. } => self.report.unchanged += 1,
            }
        }
        self.insert_new(db, new).await
    }

    /// What refuses a new household now that the check did not see: its 户编号 or one of its
    /// identity numbers registered since (the same problem the check reports for them).
    fn recheck_new(
        &self,
        found: &Lookups,
        sheet: &SheetHeader,
        at: Origin,
        member_rows: &[u32],
        state: &xiuhua_domain::HouseholdState,
    ) -> Option<ImportProblem> {
        let no = &state.fields.household_no;
        let problem = |row: u32, column: String, value: String, m| {
            let mut p = ImportProblem::new(sheet.sheet.clone(), row as usize, column, value, m);
            p.household_no = no.clone();
            p
        };
        if found.existing_by_no.contains_key(no) {
            let m = msg("household_no_taken").arg("household_no", no);
            return Some(problem(at.first_row, String::new(), String::new(), m));
        }
        for (row, m) in member_rows.iter().zip(&state.members) {
            let key = m.id_number.get(..18).unwrap_or(&m.id_number);
            if let Some((other, other_no, other_village)) = found.holders.get(key) {
                let message =
                    holder_message(self.user, &m.id_number, other, other_no, other_village, no);
                let column = sheet
                    .fields
                    .iter()
                    .position(|f| *f == Some(Field::ID_NUMBER))
                    .and_then(|c| sheet.names.get(c).cloned())
                    .unwrap_or_default();
                return Some(problem(*row, column, m.id_number.clone(), message));
            }
        }
        None
    }

    /// Writes an existing household's prepared changes (new members get their ids now), checked
    /// against the version the check saw; a refusal becomes a problem of its first row.
    #[expect(clippy::too_many_arguments, reason = "one prepared household")]
    async fn replay_update(
        &mut self,
        db: &TxTask,
        sheet: &SheetHeader,
        at: Origin,
        id: i64,
        version: i64,
        kind: EventKind,
        mut changes: Vec<Change>,
    ) -> Result<()> {
        for c in changes.iter_mut() {
            if let Change::AddMember { member, .. } = c {
                member.id = self.ids.take(db, "member", 1).await?;
            }
        }
        let (first_row, last_row) = (at.first_row as usize, at.last_row as usize);
        let meta = crate::registry::ChangeMeta {
            effective_date: self.opts.effective_date,
            reason: self.opts.reason.clone(),
            source: SourceKind::Import,
            source_ref: Some(self.source_ref(first_row, last_row)),
            correction: false,
        };
        let (s, user) = (self.s.clone(), self.user.clone());
        let outcome = db
            .run(
                move |conn: &mut AnyConnection| -> ConnFuture<'_, Result<()>> {
                    Box::pin(async move {
                        Ok(crate::registry::write_event(
                            &s,
                            conn,
                            &user,
                            id,
                            Some(version),
                            kind,
                            changes,
                            &meta,
                        )
                        .await
                        .map(|_| ()))
                    })
                },
            )
            .await?;
        let problem = |column: String, m| {
            ImportProblem::new(sheet.sheet.clone(), first_row, column, String::new(), m)
        };
        match outcome {
            Ok(()) => {
                self.report.changed += 1;
                self.report.events += 1;
            }
            Err(Error::Invalid(errs)) => {
                for e in &errs {
                    self.push_problem(problem(
                        e.field.clone(),
                        msg("record_problem")
                            .arg("record", &e.record)
                            .arg("reason", e.message_zh())
                            .arg("error", e),
                    ));
                }
            }
            Err(Error::Conflict { message, .. }) => {
                self.push_problem(problem(String::new(), message));
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
