//! The import pipeline: per batch of households, the registry lookups ([`Lookups`]),
//! interpretation and checks, then ([`Mode::Write`]) updates of existing households through
//! `registry::write_event` and bulk inserts of new ones ([`Run`]), or ([`Mode::Check`]) the same
//! checks with nothing written: updates through `registry::check_event`, new households only
//! counted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use xiuhua_domain::message::{Message, msg};

use xiuhua_db::AnyConnection;
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event::{self, Change, EventKind, SourceKind};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::validate::parse_member_id_number;
use xiuhua_domain::{
    CodeCatalog, FieldCatalog, FieldLevel, HouseholdFields, HouseholdState, Member,
    validate_household,
};
use xiuhua_xlsx::cell::{CellValue, id_number_text};
use xiuhua_xlsx::write::RowProblem;
use xiuhua_xlsx::{Field, SheetHeader};

mod insert;
mod prepared;
mod replay;

use super::diff::{HouseholdDiff, MAX_DIFFS};
use super::ids::IdBlocks;
use super::interpret::{
    Group, Problems, check_rows, column_letter, field_for, interpret, merge_member, text,
};
use super::regions::Regions;
use super::{ImportCounts, ImportOptions, ImportProblem, ImportReport, MAX_PROBLEMS};
use crate::tx_task::{ConnFuture, Reply, TxTask};
use crate::{CurrentUser, Error, Result, Services};
use insert::NewHousehold;
use prepared::PreparedOut;
pub(super) use prepared::{Origin, Prepared, Spill};

/// A compact key for a (valid, normalised) identity number: the 17 digits and the check
/// character in one integer, so a million numbers take a few tens of megabytes.
fn id_key(id: &str) -> u64 {
    let body: u64 = id.get(..17).and_then(|b| b.parse().ok()).unwrap_or(0);
    let check = match id.as_bytes().get(17) {
        Some(b'X') => 10,
        Some(b) if b.is_ascii_digit() => u64::from(b - b'0'),
        _ => 11,
    };
    body * 12 + check
}

/// What the database holds about the households and people of one batch, looked up before the
/// batch is interpreted (queued ahead of the previous batch's writes, see [`super::import_ledger`]).
#[derive(Default)]
pub(super) struct Lookups {
    /// Stored households by 户编号.
    existing_by_no: HashMap<String, xiuhua_db::households::HouseholdRow>,
    /// Their current members.
    members_of: HashMap<i64, Vec<MemberRow>>,
    /// Stored members by identity number (first 18 characters), with their 户编号 and village.
    holders: HashMap<String, (MemberRow, String, String)>,
}

impl Lookups {
    /// Queues the lookups for `groups`.
    pub(super) async fn ask(db: &TxTask, county: &str, groups: &[Group]) -> Result<Reply<Lookups>> {
        let county = county.to_string();
        let nos: Vec<String> = groups
            .iter()
            .filter_map(|g| g.rows[0].get(Field::HOUSEHOLD_NO).map(text))
            .collect();
        let id_numbers: Vec<String> = groups
            .iter()
            .flat_map(|g| g.rows.iter())
            .filter_map(|r| r.get(Field::ID_NUMBER))
            .filter_map(|v| id_number_text(v).ok())
            .filter_map(|t| {
                parse_member_id_number(&t)
                    .ok()
                    .map(|id| id.as_str().to_string())
            })
            .collect();
        Lookups::ask_for(db, county, nos, id_numbers).await
    }

    /// Queues the lookups for the households `nos` and the (valid) identity numbers
    /// `id_numbers`.
    pub(super) async fn ask_for(
        db: &TxTask,
        county: String,
        nos: Vec<String>,
        id_numbers: Vec<String>,
    ) -> Result<Reply<Lookups>> {
        db.ask(move |conn: &mut AnyConnection| -> ConnFuture<'_, Lookups> {
            Box::pin(async move {
                let mut out = Lookups::default();
                for h in xiuhua_db::households::find_by_nos(conn, &county, &nos).await? {
                    out.existing_by_no.insert(h.household_no.clone(), h);
                }
                let ids: Vec<i64> = out.existing_by_no.values().map(|h| h.id).collect();
                for m in xiuhua_db::members::list_for_households(conn, &county, &ids).await? {
                    out.members_of.entry(m.household_id).or_default().push(m);
                }
                for (m, no, village) in
                    xiuhua_db::members::find_by_id_numbers(conn, &id_numbers).await?
                {
                    out.holders.insert(
                        m.id_number.get(..18).unwrap_or(&m.id_number).to_string(),
                        (m, no, village),
                    );
                }
                Ok(out)
            })
        })
        .await
    }
}

/// What a batch's lookups say, with the stored members decoded.
struct Known {
    existing_by_no: HashMap<String, xiuhua_db::households::HouseholdRow>,
    members_of: HashMap<i64, Vec<Member>>,
    holders: HashMap<String, (MemberRow, String, String)>,
}

impl Known {
    fn decode(found: Lookups) -> Result<Known> {
        let Lookups {
            existing_by_no,
            members_of: member_rows,
            holders,
        } = found;
        let mut members_of: HashMap<i64, Vec<Member>> = HashMap::new();
        for (h, rows) in member_rows {
            members_of.insert(
                h,
                rows.iter()
                    .map(MemberRow::decode)
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(Known {
            existing_by_no,
            members_of,
            holders,
        })
    }

    /// Identity numbers new to this household must not belong to anyone else. The holder's
    /// household and name are named only when it lies in `user`'s region; elsewhere the
    /// message says only that the number is registered elsewhere (no answers across scope).
    fn check_holders(
        &self,
        user: &CurrentUser,
        base_state: Option<&HouseholdState>,
        existing_id: Option<i64>,
        merged: &[(usize, Member)],
        no: &str,
        p: &mut Problems<'_>,
    ) {
        for (row, m) in merged {
            if base_state.is_some_and(|b| b.members.iter().any(|x| x.id_number == m.id_number)) {
                continue;
            }
            if let Some((other, other_no, other_village)) = self
                .holders
                .get(m.id_number.get(..18).unwrap_or(&m.id_number))
                && Some(other.household_id) != existing_id
            {
                // A person moving between two households of the same file is refused
                // too: moves go through `registry::move_member`, which records both sides.
                let message =
                    holder_message(user, &m.id_number, other, other_no, other_village, no);
                p.row(*row, message);
            }
        }
    }

    /// The current state of a stored household (its members taken out of the lookups).
    fn stored_state(
        &mut self,
        existing: Option<&xiuhua_db::households::HouseholdRow>,
    ) -> Result<Option<HouseholdState>> {
        Ok(match existing {
            Some(h) => Some(HouseholdState {
                fields: h.decode_fields()?,
                members: self.members_of.remove(&h.id).unwrap_or_default(),
            }),
            None => None,
        })
    }
}

/// The problem of an identity number already held by `other` (of household `other_no` in
/// `other_village`) for household `no`. The holder's household and name are named only when it
/// lies in `user`'s region; elsewhere the message says only that the number is registered
/// elsewhere (no answers across scope).
fn holder_message(
    user: &CurrentUser,
    id_number: &str,
    other: &MemberRow,
    other_no: &str,
    other_village: &str,
    no: &str,
) -> Message {
    if user.can_see(other_village) {
        msg("import_identity_number_id_number_already")
            .arg("id_number", id_number)
            .arg("other_no", other_no)
            .arg("name", &other.name)
            .arg("no", no)
    } else if user.region_code.get(..6) == Some(other.county_code.as_str()) {
        msg("import_id_number_registered_elsewhere").arg("id_number", id_number)
    } else {
        msg("import_id_number_registered_in_another_county").arg("id_number", id_number)
    }
}

/// What a check phase prepared for the write phase ([`Run::take_prepared`]).
pub(super) struct Checked {
    /// The valid households (at the time each was checked), in file order.
    pub(super) spill: Spill,
    /// Per household of the check, whether it has problems (a later household can make an
    /// earlier one invalid): those are skipped.
    pub(super) house_bad: Vec<bool>,
    /// The sheet headers (by `Origin::sheet`).
    pub(super) sheets: Vec<Arc<SheetHeader>>,
    /// The 村民小组 the check created (stored by the first chunk).
    pub(super) new_groups: Vec<xiuhua_db::regions::RegionRow>,
}

/// Which phase of an import a [`Run`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// The check phase: on a read transaction, nothing written.
    Check,
    /// The write phase of the import run with this id.
    Write(i64),
}

/// Accumulated state of one import run.
pub(super) struct Run<'a> {
    pub(super) mode: Mode,
    pub(super) s: &'a Services,
    user: &'a CurrentUser,
    pub(super) opts: &'a ImportOptions,
    codes: CodeCatalog,
    regions: Regions,
    source_ref: String,
    report: ImportReport,
    /// 户编号 seen so far → index into `household_nos`.
    seen_households: HashMap<String, u32>,
    /// Identity numbers seen so far (compact key) → (index into `household_nos`, row).
    seen_ids: HashMap<u64, (u32, u32)>,
    /// 户编号 of the households read so far, by order of appearance.
    household_nos: Vec<String>,
    /// Per household of `household_nos`: its member rows, whether it has problems (a later
    /// household can give an earlier one a problem: the other row of a duplicate), its sheet
    /// (index into `sheets`).
    house_rows: Vec<u32>,
    house_bad: Vec<bool>,
    house_sheet: Vec<u16>,
    sheets: Vec<Arc<SheetHeader>>,
    /// Households without a usable 户编号 (always invalid): households, member rows.
    unnumbered: (usize, usize),
    /// Problems of the file as a whole (no household to hold back): they refuse a valid-only
    /// import too.
    file_problems: usize,
    /// Sheets already told that they have no status column.
    status_told: HashSet<String>,
    /// Rows of the error workbook added after their household was read (the earlier row of a
    /// duplicate): their cells are filled in from the file at the end (`fill_late_rows`).
    late_rows: Vec<(String, usize)>,
    bad_rows: Vec<(usize, Vec<CellValue>, Vec<RowProblem>)>,
    header: Vec<String>,
    more_problems: usize,
    /// Households and people added per (village, 户类型, 监测状态), applied to `village_counts`
    /// once at the end of each write chunk rather than per household (a chunk touches many
    /// villages).
    counts: HashMap<(String, &'static str, &'static str), (i64, i64)>,
    pub(super) ids: IdBlocks,
    /// The county's latest closed year (年度动态调整), read once at the start.
    closed_year: Option<i32>,
    /// A check that a write will follow keeps each valid household here as it prepared it
    /// (see [`prepared`]); `None`: nothing kept (a dry run, or the write phase).
    prepared: Option<Spill>,
}

impl<'a> Run<'a> {
    /// A run over a file with SHA-256 `sha`, with the county's regions and latest closed year.
    pub(super) fn new(
        s: &'a Services,
        user: &'a CurrentUser,
        opts: &'a ImportOptions,
        regions: Regions,
        closed_year: Option<i32>,
        sha: String,
        mode: Mode,
    ) -> Run<'a> {
        Run {
            mode,
            s,
            user,
            opts,
            codes: s.codes(),
            regions,
            source_ref: format!("{} sha256:{sha}", opts.file_name),
            report: ImportReport {
                counts: ImportCounts {
                    sha256: sha,
                    dry_run: opts.dry_run,
                    ..ImportCounts::default()
                },
                ..ImportReport::default()
            },
            seen_households: HashMap::new(),
            seen_ids: HashMap::new(),
            household_nos: Vec::new(),
            house_rows: Vec::new(),
            house_bad: Vec::new(),
            house_sheet: Vec::new(),
            sheets: Vec::new(),
            unnumbered: (0, 0),
            file_problems: 0,
            status_told: HashSet::new(),
            late_rows: Vec::new(),
            bad_rows: Vec::new(),
            header: Vec::new(),
            more_problems: 0,
            counts: HashMap::new(),
            ids: IdBlocks::new(&opts.county),
            closed_year,
            prepared: None,
        }
    }
}

impl Run<'_> {
    /// Whether anything is wrong with the file (then nothing may be written).
    pub(super) fn has_problems(&self) -> bool {
        !self.report.problems.is_empty()
    }

    /// Whether every problem belongs to a household that a valid-only import can hold back
    /// (none is about the file as a whole).
    pub(super) fn problems_held_back(&self) -> bool {
        self.file_problems == 0
    }

    /// Makes this check keep every household it prepares for the write phase (a check that a
    /// write may follow: not a dry run).
    pub(super) fn prepare(&mut self) -> Result<()> {
        self.prepared = Some(Spill::new()?);
        Ok(())
    }

    /// What the check prepared for the write phase, if it kept it: the households, which of
    /// them turned out to have problems, the sheets and the 村民小组 the check created.
    pub(super) fn take_prepared(&mut self) -> Option<Checked> {
        let spill = self.prepared.take()?;
        Some(Checked {
            spill,
            house_bad: self.house_bad.clone(),
            sheets: self.sheets.clone(),
            new_groups: std::mem::take(&mut self.regions.new_groups),
        })
    }

    /// The error workbook's rows whose cells are still to be read: (sheet, row).
    pub(super) fn late_rows(&self) -> &[(String, usize)] {
        &self.late_rows
    }

    /// Fills in the cells of the late rows (by sheet and row).
    pub(super) fn fill_late_rows(&mut self, mut cells: HashMap<(String, usize), Vec<CellValue>>) {
        for (sheet, row) in std::mem::take(&mut self.late_rows) {
            let Some(raw) = cells.remove(&(sheet, row)) else {
                continue;
            };
            if let Some((_, cells, _)) = self
                .bad_rows
                .iter_mut()
                .find(|(r, cells, _)| *r == row && cells.is_empty())
            {
                *cells = raw;
            }
        }
    }

    /// The report so far.
    pub(super) fn into_report(self) -> ImportReport {
        self.report
    }

    /// The report so far, by reference.
    pub(super) fn report(&self) -> &ImportReport {
        &self.report
    }

    /// The source reference of an event from rows `first`..=`last` (with the run's mark when
    /// writing, which is how an undo finds the run's events).
    pub(super) fn source_ref(&self, first: usize, last: usize) -> String {
        match self.mode {
            Mode::Write(id) => format!(
                "{} {} 行{first}-{last}",
                self.source_ref,
                xiuhua_db::import_runs::source_mark(id)
            ),
            Mode::Check => format!("{} 行{first}-{last}", self.source_ref),
        }
    }

    /// Records a household's problems: each in the report (with the household's 户编号 and
    /// the column's letter), and every row of the household in the error workbook with its
    /// reasons and its bad cells (`marks`: further cells a disagreement names) in red.
    fn problems(
        &mut self,
        group: &Group,
        list: Vec<(usize, Option<usize>, ImportProblem)>,
        marks: &[(usize, usize)],
    ) {
        if list.is_empty() {
            return;
        }
        if self.header.is_empty() {
            self.header = group.header.names.clone();
        }
        for r in &group.rows {
            let mut rp: Vec<RowProblem> = list
                .iter()
                .filter(|(row, ..)| *row == r.row)
                .map(|(_, col, p)| RowProblem {
                    column: *col,
                    reason: if p.column.is_empty() {
                        p.reason_zh.clone()
                    } else {
                        format!("{}：{}", p.column, p.reason_zh)
                    },
                })
                .collect();
            rp.extend(
                marks
                    .iter()
                    .filter(|(row, _)| *row == r.row)
                    .map(|(_, col)| RowProblem {
                        column: Some(*col),
                        reason: String::new(),
                    }),
            );
            if self.bad_rows.len() < MAX_PROBLEMS {
                self.bad_rows.push((r.row, r.raw.clone(), rp));
            }
        }
        let no = group.rows[0]
            .get(Field::HOUSEHOLD_NO)
            .map(text)
            .unwrap_or_default();
        for (_, col, mut p) in list {
            p.household_no = no.clone();
            p.column_letter = col.map(column_letter).unwrap_or_default();
            self.push_problem(p);
        }
    }

    fn push_problem(&mut self, p: ImportProblem) {
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(p);
        } else {
            self.more_problems += 1;
        }
    }

    /// The index of a group's sheet header in `sheets`.
    fn sheet_index(&mut self, g: &Group) -> u16 {
        if let Some(i) = self.sheets.iter().rposition(|h| Arc::ptr_eq(h, &g.header)) {
            return i as u16;
        }
        self.sheets.push(g.header.clone());
        (self.sheets.len() - 1) as u16
    }

    /// A problem of the file as a whole (refuses it, valid-only or not).
    fn file_problem(&mut self, g: &Group, m: Message) {
        self.file_problems += 1;
        let p = ImportProblem::new(
            g.header.sheet.clone(),
            g.header.row,
            String::new(),
            String::new(),
            m,
        );
        self.push_problem(p);
    }

    /// Interprets one batch once its lookups are in, and reports progress.
    pub(super) async fn batch(
        &mut self,
        db: &TxTask,
        groups: Vec<Group>,
        found: Reply<Lookups>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<()> {
        let found = found.get().await?;
        self.chunk(db, groups, found).await?;
        progress(self.report.rows);
        Ok(())
    }

    /// Interprets and checks one batch with its lookups; new households are inserted (or, when
    /// checking, counted) at the end.
    pub(super) async fn chunk(
        &mut self,
        db: &TxTask,
        groups: Vec<Group>,
        found: Lookups,
    ) -> Result<()> {
        let mut new_households: Vec<NewHousehold> = Vec::new();
        let mut known = Known::decode(found)?;
        for g in groups {
            self.household(db, &g, &mut known, &mut new_households)
                .await?;
        }
        self.insert_new(db, new_households).await
    }

    /// One household of the file: interpreted, checked, then updated at once if it exists or
    /// added to `new_households` if it does not; with problems, only they are recorded. Every
    /// check runs whatever the others found (all problems in one pass).
    async fn household(
        &mut self,
        db: &TxTask,
        g: &Group,
        known: &mut Known,
        new_households: &mut Vec<NewHousehold>,
    ) -> Result<()> {
        self.report.households += 1;
        self.report.rows += g.rows.len();
        let member_rows = g.rows.iter().filter(|r| r.has_member()).count();
        self.report.member_rows += member_rows;
        let first_row = g.rows[0].row;
        let last_row = g.rows.last().map(|r| r.row).unwrap_or(first_row);
        let mut p = Problems::new(g);
        let Some(no) = self.household_no(g, &mut p) else {
            self.unnumbered.0 += 1;
            self.unnumbered.1 += member_rows;
            let (list, marks) = (p.list, p.marks);
            self.problems(g, list, &marks);
            return Ok(());
        };
        let this = self.household_nos.len();
        let sheet = self.sheet_index(g);
        self.seen_households.insert(no.clone(), this as u32);
        self.household_nos.push(no.clone());
        self.house_rows.push(member_rows as u32);
        self.house_bad.push(false);
        self.house_sheet.push(sheet);
        let existing = known.existing_by_no.remove(&no);
        if existing
            .as_ref()
            .is_some_and(|h| !self.user.can_see(&h.village_code))
        {
            // The number is another region's household: refused as any taken number is,
            // without treating the row as an update of a household the user cannot see.
            p.row(
                first_row,
                msg("household_no_taken").arg("household_no", &no),
            );
            self.house_bad[this] = true;
            let (list, marks) = (p.list, p.marks);
            self.problems(g, list, &marks);
            return Ok(());
        }
        let base_state = known.stored_state(existing.as_ref())?;
        let base_fields = base_state
            .as_ref()
            .map(|b| b.fields.clone())
            .unwrap_or_default();
        let (mut fields, members, status_said) =
            interpret(g, &base_fields, &mut self.regions, &self.codes, &mut p);
        if existing.is_none() && !status_said {
            self.default_status(g, &mut fields, &mut p);
        }
        self.check_scope(first_row, &fields, &mut p);
        self.check_repeats_in_file(this, &members, &mut p);
        let merged = merge_members(g, base_state.as_ref(), members);
        let state = HouseholdState {
            fields,
            members: merged.iter().map(|(_, m)| m.clone()).collect(),
        };
        self.check_valid(g, &state, &merged, &mut p);
        check_rows(g, &self.codes, &mut p);
        let existing_id = existing.as_ref().map(|h| h.id);
        known.check_holders(
            self.user,
            base_state.as_ref(),
            existing_id,
            &merged,
            &no,
            &mut p,
        );
        let list = std::mem::take(&mut p.list);
        if !list.is_empty() {
            self.house_bad[this] = true;
            let marks = std::mem::take(&mut p.marks);
            self.problems(g, list, &marks);
            return Ok(());
        }
        if existing.is_none() {
            self.note_diff(|| HouseholdDiff::created(&no, &g.header.sheet, first_row, &state));
        }
        let at = Origin {
            this: this as u32,
            sheet,
            first_row: first_row as u32,
            last_row: last_row as u32,
            rows: g.rows.len() as u32,
        };
        if existing.is_none()
            && let Some(spill) = self.prepared.as_mut()
        {
            let member_rows: Vec<u32> = merged.iter().map(|(r, _)| *r as u32).collect();
            spill.push(&PreparedOut::New {
                at,
                member_rows: &member_rows,
                state: &state,
            })?;
        }
        match (&existing, base_state) {
            (None, _) => new_households.push(NewHousehold {
                state,
                first_row,
                last_row,
            }),
            (Some(h), Some(base)) => {
                self.update(db, g, at, h.id, h.version, &base, state)
                    .await?
            }
            (Some(_), None) => {}
        }
        Ok(())
    }

    /// A new household whose rows say nothing about its status takes the file's default; with
    /// none, a sheet without any status column is refused as a whole (once), and a household
    /// whose status cells are blank is a problem of its first row.
    fn default_status(&mut self, g: &Group, fields: &mut HouseholdFields, p: &mut Problems<'_>) {
        if let Some(status) = self.opts.default_status {
            fields.status = status;
            return;
        }
        let has_column = g
            .header
            .fields
            .iter()
            .flatten()
            .any(|f| STATUS_FIELDS.contains(f));
        if has_column {
            p.row(g.rows[0].row, msg("import_status_missing"));
        } else if self.status_told.insert(g.header.sheet.clone()) {
            self.file_problem(g, msg("import_default_status_needed"));
        }
    }

    /// The household's village must be inside the user's region.
    fn check_scope(&self, first_row: usize, fields: &HouseholdFields, p: &mut Problems<'_>) {
        if !fields.village_code.is_empty() && !self.user.can_see(&fields.village_code) {
            p.row(first_row, msg("import_household_s_village_outside_your"));
        } else if !fields.village_code.is_empty()
            && !crate::registry::household_no_follows_village(
                self.user,
                &fields.household_no,
                &fields.village_code,
            )
        {
            p.row(
                first_row,
                msg("household_no_village")
                    .arg("household_no", &fields.household_no)
                    .arg("village_code", &fields.village_code),
            );
        }
    }

    /// The household's 户编号, unless it is missing or was seen before in the file (then the
    /// earlier household is invalid too: which of the two is meant cannot be known).
    fn household_no(&mut self, g: &Group, p: &mut Problems<'_>) -> Option<String> {
        let first_row = g.rows[0].row;
        let Some(no) = g.rows[0].get(Field::HOUSEHOLD_NO).map(text) else {
            p.row(first_row, msg("import_household_number_missing"));
            return None;
        };
        if let Some(&earlier) = self.seen_households.get(&no) {
            self.house_bad[earlier as usize] = true;
            p.row(
                first_row,
                msg("import_household_no_appears_twice_not").arg("no", no),
            );
            return None;
        }
        Some(no)
    }

    /// The same person twice in the file: a problem of both rows (and both households).
    fn check_repeats_in_file(
        &mut self,
        this: usize,
        members: &[(usize, Member)],
        p: &mut Problems<'_>,
    ) {
        let no = self.household_nos[this].clone();
        for (row, m) in members {
            let key = id_key(&m.id_number);
            let Some(&(other, other_row)) = self.seen_ids.get(&key) else {
                self.seen_ids.insert(key, (this as u32, *row as u32));
                continue;
            };
            let (other, other_row) = (other as usize, other_row as usize);
            let other_no = self.household_nos[other].clone();
            if let Some(v) = p
                .group
                .rows
                .iter()
                .find(|r| r.row == *row)
                .and_then(|r| r.get(Field::ID_NUMBER).map(|v| (r, v.clone())))
            {
                p.cell(
                    v.0,
                    Field::ID_NUMBER,
                    &v.1,
                    msg("import_identity_number_id_number_repeats")
                        .arg("id_number", &m.id_number)
                        .arg("other_row", other_row)
                        .arg("other", &other_no),
                );
            }
            // The earlier row, reported as the later one names it.
            self.house_bad[other] = true;
            let header = self.sheets[self.house_sheet[other] as usize].clone();
            let col = header
                .fields
                .iter()
                .position(|f| *f == Some(Field::ID_NUMBER));
            let mut problem = ImportProblem::new(
                header.sheet.clone(),
                other_row,
                col.and_then(|c| header.names.get(c).cloned())
                    .unwrap_or_default(),
                m.id_number.clone(),
                msg("import_identity_number_id_number_repeats")
                    .arg("id_number", &m.id_number)
                    .arg("other_row", row)
                    .arg("other", &no),
            );
            problem.household_no = other_no;
            problem.column_letter = col.map(column_letter).unwrap_or_default();
            let rp = RowProblem {
                column: col,
                reason: format!("{}：{}", problem.column, problem.reason_zh),
            };
            let room = self.bad_rows.len() < MAX_PROBLEMS;
            match self
                .bad_rows
                .iter_mut()
                .rev()
                .find(|(r, ..)| *r == other_row)
            {
                Some((_, _, list)) => list.push(rp),
                None if room => {
                    self.bad_rows.push((other_row, Vec::new(), vec![rp]));
                    self.late_rows.push((header.sheet.clone(), other_row));
                }
                None => {}
            }
            self.push_problem(problem);
        }
    }

    /// Validation of the household as it would be stored; each problem points at the cell of
    /// the member and field it names where there is one.
    fn check_valid(
        &self,
        g: &Group,
        state: &HouseholdState,
        merged: &[(usize, Member)],
        p: &mut Problems<'_>,
    ) {
        let first_row = g.rows[0].row;
        for e in validate_household(state, &self.codes, self.s.clock.today()) {
            if ROW_CHECKS.contains(&e.code) {
                continue; // checked on the rows themselves (`check_rows`)
            }
            let row = merged
                .iter()
                .find(|(_, m)| !m.id_number.is_empty() && e.record.contains(&m.id_number))
                .map(|(r, _)| *r)
                .unwrap_or(first_row);
            let field = field_for(&e.field);
            if already_said(g, field, row, p) {
                continue; // the cells' own problems already say it
            }
            match (field, g.rows.iter().find(|r| r.row == row)) {
                (Some(f), Some(r)) => {
                    let v = r.get(f).cloned().unwrap_or(CellValue::Empty);
                    p.cell(r, f, &v, e.message);
                }
                _ => p.row(
                    row,
                    msg("record_problem")
                        .arg("record", &e.record)
                        .arg("reason", e.message_zh())
                        .arg("error", &e),
                ),
            }
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one household's import context")]
    async fn update(
        &mut self,
        db: &TxTask,
        g: &Group,
        at: Origin,
        id: i64,
        version: i64,
        base: &HouseholdState,
        new: HouseholdState,
    ) -> Result<()> {
        let (this, first_row, last_row) = (
            at.this as usize,
            at.first_row as usize,
            at.last_row as usize,
        );
        let (mut changes, status_change) = changes_between(base, &new);
        if changes.is_empty() {
            self.report.unchanged += 1;
            if let Some(spill) = self.prepared.as_mut() {
                spill.push(&PreparedOut::Unchanged { at })?;
            }
            return Ok(());
        }
        let no = &new.fields.household_no;
        self.note_diff(|| HouseholdDiff::changed(no, &g.header.sheet, first_row, base, &new));
        // New members get placeholder ids no stored member has (real ones when written:
        // `replay`).
        let mut placeholder = 0;
        for c in changes.iter_mut() {
            if let Change::AddMember { member, .. } = c {
                placeholder -= 1;
                member.id = placeholder;
            }
        }
        let kind = if status_change {
            EventKind::StatusChanged
        } else {
            EventKind::Edited
        };
        let meta = crate::registry::ChangeMeta {
            effective_date: self.opts.effective_date,
            reason: self.opts.reason.clone(),
            source: SourceKind::Import,
            source_ref: Some(self.source_ref(first_row, last_row)),
            correction: false,
        };
        let (s, user) = (self.s.clone(), self.user.clone());
        let kept = self.prepared.is_some().then(|| changes.clone());
        // The outcome is wanted here (a refused change becomes a problem of its rows), so the
        // check runs inside the job and its result comes back as a value. (The write phase
        // writes the prepared changes: `replay`.)
        let outcome = db
            .run(
                move |conn: &mut AnyConnection| -> ConnFuture<'_, Result<()>> {
                    Box::pin(async move {
                        Ok(crate::registry::check_event(
                            &s,
                            conn,
                            &user,
                            id,
                            Some(version),
                            kind,
                            changes,
                            &meta,
                        )
                        .await)
                    })
                },
            )
            .await?;
        if let (Some(spill), Some(changes), Ok(())) = (self.prepared.as_mut(), kept, &outcome) {
            spill.push(&PreparedOut::Update {
                at,
                id,
                version,
                kind,
                changes: &changes,
            })?;
        }
        self.updated(g, this, first_row, outcome)
    }

    /// Counts a written change, or records why the registry refused it as a problem of the
    /// household's first row.
    fn updated(
        &mut self,
        g: &Group,
        this: usize,
        first_row: usize,
        outcome: Result<()>,
    ) -> Result<()> {
        if matches!(outcome, Err(Error::Invalid(_) | Error::Conflict { .. })) {
            self.house_bad[this] = true;
        }
        let problem = |column: String, m: Message| {
            let p = ImportProblem::new(g.header.sheet.clone(), first_row, column, String::new(), m);
            (first_row, None, p)
        };
        match outcome {
            Ok(_) => {
                self.report.changed += 1;
                self.report.events += 1;
            }
            Err(Error::Invalid(errs)) => {
                let list = errs
                    .iter()
                    .map(|e| {
                        problem(
                            e.field.clone(),
                            msg("record_problem")
                                .arg("record", &e.record)
                                .arg("reason", e.message_zh())
                                .arg("error", e),
                        )
                    })
                    .collect();
                self.problems(g, list, &[]);
            }
            Err(Error::Conflict { message, .. }) => {
                let list = vec![problem(String::new(), message)];
                self.problems(g, list, &[]);
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Adds what the reader found about the file as a whole (unknown columns, skipped sheets)
    /// and the count of problems not listed.
    pub(super) fn add_outline(&mut self, info: &xiuhua_xlsx::LedgerInfo) {
        for h in &info.sheets {
            self.report.unknown_columns.extend(
                h.unknown
                    .iter()
                    .map(|(c, n)| (h.sheet.clone(), *c, n.clone())),
            );
        }
        self.report.skipped_sheets = info.skipped_sheets.clone();
        self.report.no_status_column = !info.sheets.is_empty()
            && info
                .sheets
                .iter()
                .all(|h| !h.fields.iter().flatten().any(|f| STATUS_FIELDS.contains(f)));
        let (bad, mut bad_rows) = self
            .house_bad
            .iter()
            .zip(&self.house_rows)
            .filter(|(bad, _)| **bad)
            .fold((0, 0), |(n, r), (_, rows)| (n + 1, r + *rows as usize));
        bad_rows += self.unnumbered.1;
        self.report.invalid_households = bad + self.unnumbered.0;
        self.report.valid_households = self.report.households - self.report.invalid_households;
        self.report.invalid_member_rows = bad_rows;
        self.report.valid_member_rows = self.report.member_rows - bad_rows;
        if self.mode == Mode::Check && self.opts.valid_only {
            self.report.held_back = self
                .household_nos
                .iter()
                .zip(&self.house_bad)
                .filter(|(_, bad)| **bad)
                .map(|(no, _)| no.clone())
                .collect();
        }
        self.report.notices = super::ImportNotice::of_outline(info);
        for h in &info.sheets {
            for f in &h.missing {
                let column = xiuhua_xlsx::columns::header(*f).to_string();
                let m = msg("ledger_missing_column")
                    .arg("sheet", &h.sheet)
                    .arg("row", h.row)
                    .arg("column", &column);
                let p = ImportProblem::new(h.sheet.clone(), h.row, column, String::new(), m);
                self.report.problems.insert(0, p);
            }
        }
        if self.more_problems > 0 {
            self.report.problems.push(ImportProblem::new(
                String::new(),
                0,
                String::new(),
                String::new(),
                msg("more_problems").arg("count", self.more_problems),
            ));
        }
    }

    /// The report of a refused file, with its error workbook.
    pub(super) fn rejected(mut self) -> Result<ImportReport> {
        self.report.error_workbook = Some(
            xiuhua_xlsx::write::error_workbook(&self.header, &self.bad_rows)
                .map_err(|e| Error::Unexpected(anyhow::anyhow!("error workbook: {e}")))?,
        );
        Ok(self.report)
    }

    /// The last writes of a chunk, queued after its households: the village counts of its new
    /// households and the 村民小组 it created, so that the derived tables are whole when the
    /// chunk commits.
    pub(super) async fn store_chunk(&mut self, db: &TxTask) -> Result<()> {
        let mut counts: Vec<_> = std::mem::take(&mut self.counts).into_iter().collect();
        counts.sort_unstable();
        let new_groups = std::mem::take(&mut self.regions.new_groups);
        db.run(move |conn: &mut AnyConnection| -> ConnFuture<'_, ()> {
            Box::pin(async move {
                for ((village, status, monitoring), (h, p)) in counts {
                    xiuhua_db::households::adjust_counts(conn, &village, status, monitoring, h, p)
                        .await?;
                }
                if !new_groups.is_empty() {
                    xiuhua_db::regions::upsert_many(conn, &new_groups).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Records what a dry run would change in one household (`diff`); other runs keep none.
    fn note_diff(&mut self, diff: impl FnOnce() -> HouseholdDiff) {
        if self.mode != Mode::Check || !self.opts.dry_run {
            return;
        }
        self.report.diffs_total += 1;
        if self.report.diffs.len() < MAX_DIFFS {
            self.report.diffs.push(diff());
        }
    }

    /// The first problem recorded, if any.
    pub(super) fn first_problem(&self) -> Option<&ImportProblem> {
        self.report.problems.first()
    }
}

/// Household columns that say what a household's status is.
const STATUS_FIELDS: &[Field] = &[
    Field::STATUS,
    Field::ATTRIBUTE,
    Field::EXIT_YEAR,
    Field::MONITOR_TYPE,
];

/// Validation codes the import checks on the rows themselves (`check_rows`), so that a row
/// whose identity number could not be read still counts as the household's head.
const ROW_CHECKS: &[&str] = &["no_members", "no_head", "two_heads"];

/// Whether a validation problem of `field` follows from a problem already found in the cells
/// it is read from: the field's own cell in `row` (a member field) or in any row (a household
/// field), or, for the village and group codes, any region cell or a missing village.
fn already_said(g: &Group, field: Option<Field>, row: usize, p: &Problems<'_>) -> bool {
    let Some(field) = field else {
        return false;
    };
    let col = |f: Field| g.header.fields.iter().position(|x| *x == Some(f));
    let household = FieldCatalog::shipped().get(field).level == FieldLevel::Household;
    let sources: &[Field] = match field {
        Field::VILLAGE_CODE | Field::GROUP_CODE => &[
            Field::TOWNSHIP,
            Field::VILLAGE,
            Field::VILLAGE_CODE,
            Field::GROUP,
        ],
        _ => std::slice::from_ref(&field),
    };
    let cols: Vec<usize> = sources.iter().filter_map(|f| col(*f)).collect();
    p.list.iter().any(|(r, c, problem)| {
        let in_cols = c.is_some_and(|c| cols.contains(&c));
        (in_cols && (household || *r == row))
            || (sources.len() > 1 && problem.kind == "import_village_village_code_missing")
    })
}

/// The imported members, each merged over the stored member with the same identity number
/// (only the columns the file has replace stored values).
fn merge_members(
    g: &Group,
    base_state: Option<&HouseholdState>,
    members: Vec<(usize, Member)>,
) -> Vec<(usize, Member)> {
    let present: HashSet<Field> = g.header.fields.iter().flatten().copied().collect();
    members
        .into_iter()
        .map(|(row, m)| {
            let old =
                base_state.and_then(|b| b.members.iter().find(|x| x.id_number == m.id_number));
            (row, old.map(|o| merge_member(o, &m, &present)).unwrap_or(m))
        })
        .collect()
}

/// The changes that turn `base` into `new` (fields, then members changed or added, then members
/// removed), and whether the registry status or monitoring changed.
fn changes_between(base: &HouseholdState, new: &HouseholdState) -> (Vec<Change>, bool) {
    let mut changes = Vec::new();
    let patch: FieldPatch = event::diff(&base.fields, &new.fields);
    let status_change = patch.keys().any(|k| {
        matches!(
            k.as_str(),
            "status" | "exit_year" | "exit_batch" | "monitoring" | "monitor_type"
        )
    });
    if !patch.is_empty() {
        changes.push(Change::SetFields { patch });
    }
    for m in &new.members {
        match base.members.iter().find(|o| o.id_number == m.id_number) {
            Some(o) => {
                let patch = event::diff(o, m);
                if !patch.is_empty() {
                    changes.push(Change::UpdateMember {
                        member_id: o.id,
                        patch,
                    });
                }
            }
            None => changes.push(Change::AddMember {
                member: m.clone(),
                reason_code: None,
            }),
        }
    }
    for o in &base.members {
        if !new.members.iter().any(|m| m.id_number == o.id_number) {
            changes.push(Change::RemoveMember {
                member_id: o.id,
                reason_code: None,
            });
        }
    }
    (changes, status_change)
}
