//! Spreadsheets for xiuhua: reading Excel (`.xlsx`, `.xls`) and CSV ledgers as they are — header
//! rows anywhere near the top, Chinese column names and their variants, merged cells, full-width
//! digits, GBK text — into rows of recognised fields; and writing exports (`.xlsx` with frozen
//! headers, identity numbers as text, real dates; CSV) and error workbooks.
//!
//! **Invariant:** no database here. Readers return records and per-cell problems; `xiuhua-app`
//! decides what they mean and persists them.

pub mod cell;
pub mod columns;
mod guard;
pub mod ledger;
pub mod limits;
mod merges;
pub mod source;
pub mod write;

pub use cell::CellValue;
pub use columns::{Field, Level};
pub use ledger::{
    LedgerError, LedgerInfo, LedgerRow, SheetHeader, SkipKind, SkippedRow, column_letter,
    read_ledger, read_ledger_limited,
};
pub use limits::{Limit, LimitError, Place, ReadLimits};
pub use source::{Format, ReadError};
