//! The check phase's prepared households, kept for the write phase: each valid household as
//! the check interpreted, resolved and validated it (a new household's state, or an existing
//! one's changes and the version they were checked against), one JSON line each in an
//! anonymous temporary file (`Spill`), so memory stays bounded whatever the file's size and the
//! write phase neither reads the ledger again nor interprets it a second time.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use serde::{Deserialize, Serialize};
use xiuhua_domain::HouseholdState;
use xiuhua_domain::event::{Change, EventKind};

use crate::{Error, Result};

/// Where a prepared household came from in the file.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(in crate::imports) struct Origin {
    /// Index of the household in the check run's households (its `house_bad` flag).
    pub(in crate::imports) this: u32,
    /// Index of its sheet header in the check run's sheets.
    pub(in crate::imports) sheet: u16,
    /// First and last row of the household.
    pub(in crate::imports) first_row: u32,
    pub(in crate::imports) last_row: u32,
    /// Rows the household has (for progress).
    pub(in crate::imports) rows: u32,
}

/// One household as the check phase prepared it (written borrowed, read owned: the same JSON).
#[derive(Serialize)]
pub(super) enum PreparedOut<'a> {
    New {
        at: Origin,
        member_rows: &'a [u32],
        state: &'a HouseholdState,
    },
    Update {
        at: Origin,
        id: i64,
        version: i64,
        kind: EventKind,
        changes: &'a [Change],
    },
    Unchanged {
        at: Origin,
    },
}

/// One household as the check phase prepared it.
#[derive(Debug, Deserialize)]
pub(in crate::imports) enum Prepared {
    /// New to the registry: its state (fields and members, member ids still unset) and the row
    /// of each member.
    New {
        /// Where it came from.
        at: Origin,
        /// The row of each member of `state`.
        member_rows: Vec<u32>,
        /// The household as it will be stored (boxed: the other variants are small).
        state: Box<HouseholdState>,
    },
    /// An existing household with changes, checked against `version` (new members have
    /// placeholder ids below zero).
    Update {
        /// Where it came from.
        at: Origin,
        /// The household's id.
        id: i64,
        /// The version the changes were checked against.
        version: i64,
        /// The event's kind.
        kind: EventKind,
        /// The changes.
        changes: Vec<Change>,
    },
    /// An existing household the file does not change.
    Unchanged {
        /// Where it came from.
        at: Origin,
    },
}

impl Prepared {
    /// Where it came from.
    pub(in crate::imports) fn origin(&self) -> Origin {
        match self {
            Prepared::New { at, .. } | Prepared::Update { at, .. } | Prepared::Unchanged { at } => {
                *at
            }
        }
    }
}

fn spill_error(e: impl std::fmt::Display) -> Error {
    Error::Unexpected(anyhow::anyhow!("import spill file: {e}"))
}

/// The prepared households of a check, in file order, in an anonymous temporary file
/// (removed by the system when closed).
pub(in crate::imports) struct Spill {
    out: BufWriter<File>,
    /// Households written.
    pub(in crate::imports) len: usize,
}

impl Spill {
    /// An empty spill file in the system's temporary directory.
    pub(super) fn new() -> Result<Spill> {
        let file = tempfile::tempfile().map_err(spill_error)?;
        Ok(Spill {
            out: BufWriter::with_capacity(1 << 20, file),
            len: 0,
        })
    }

    /// Appends one household.
    pub(super) fn push(&mut self, p: &PreparedOut<'_>) -> Result<()> {
        serde_json::to_writer(&mut self.out, p).map_err(spill_error)?;
        self.out.write_all(b"\n").map_err(spill_error)?;
        self.len += 1;
        Ok(())
    }

    /// The households written, read back from the start.
    pub(in crate::imports) fn into_reader(self) -> Result<SpillReader> {
        let mut file = self.out.into_inner().map_err(spill_error)?;
        file.seek(SeekFrom::Start(0)).map_err(spill_error)?;
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 20, file),
            line: String::new(),
        })
    }
}

/// Reads a [`Spill`] back, household by household.
pub(in crate::imports) struct SpillReader {
    input: BufReader<File>,
    line: String,
}

impl SpillReader {
    /// The next household, `None` at the end.
    pub(in crate::imports) fn next_household(&mut self) -> Result<Option<Prepared>> {
        self.line.clear();
        if self.input.read_line(&mut self.line).map_err(spill_error)? == 0 {
            return Ok(None);
        }
        serde_json::from_str(&self.line)
            .map(Some)
            .map_err(spill_error)
    }
}
