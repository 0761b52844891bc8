//! Helpers shared by the fuzz targets in `fuzz_targets/`.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use xiuhua_domain::id_number::IdNumber;
use xiuhua_xlsx::cell::{self, CellValue};
use xiuhua_xlsx::{Field, LedgerError, ReadError, ReadLimits, read_ledger, read_ledger_limited};

/// Zip local-file header: `.xlsx`.
pub const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// OLE compound document: `.xls` (or an encrypted `.xlsx`).
pub const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Whether `data` would be read as a workbook rather than as delimited text.
pub fn is_workbook(data: &[u8]) -> bool {
    data.starts_with(ZIP_MAGIC) || data.starts_with(OLE_MAGIC)
}

/// The readers only take a path: every input goes to one scratch file per fuzzing process
/// (libFuzzer runs inputs one at a time in a process), rewritten for each input.
fn scratch_file(ext: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xiuhua-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir.join(format!("input.{ext}"))
}

/// Feeds `data` to [`read_ledger`] as a file named `input.<ext>` (the reader decides the format
/// from the content, not the name), then interprets every cell the way an import does.
/// With `XIUHUA_FUZZ_DEBUG` set, prints what was read (to check a seed or a reproducer).
pub fn read_ledger_bytes(data: &[u8], ext: &str) {
    let path = scratch_file(ext);
    {
        let mut f = std::fs::File::create(&path).expect("create scratch file");
        f.write_all(data).expect("write scratch file");
    }
    let debug = std::env::var_os("XIUHUA_FUZZ_DEBUG").is_some();
    let mut rows = 0usize;
    let result = read_ledger(&path, &[], &mut |header, row| {
        rows += 1;
        if debug {
            eprintln!("row {}:{} {:?}", row.sheet, row.row, row.values().collect::<Vec<_>>());
        }
        assert!(row.row >= 1, "row numbers are 1-based");
        assert_eq!(header.names.len(), header.fields.len());
        for (field, value) in row.values() {
            interpret(field, value);
        }
        for value in &row.raw {
            let _ = value.display();
        }
        let _ = row.has_member();
        // A bounded amount of work per input: a huge sheet is fine, but not interesting.
        if rows > 10_000 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    if debug {
        eprintln!("read_ledger: {result:?}");
    }
    check_result(result);
    // Again within small limits: every bomb or oversized input must be refused with a limit
    // error (never a crash, an OOM or a hang), and what passes must stay inside them.
    let limits = ReadLimits {
        max_entry_bytes: 1 << 20,
        max_sheet_bytes: 4 << 20,
        max_cell_bytes: 1 << 10,
        max_rows: 5_000,
        max_columns: 64,
    };
    let result = read_ledger_limited(&path, &[], &limits, &mut |_, row| {
        assert!(row.row <= limits.max_rows, "row {} past the limit", row.row);
        for value in &row.raw {
            if let CellValue::Text(t) = value {
                assert!(t.len() <= limits.max_cell_bytes, "a cell of {} bytes", t.len());
            }
        }
        ControlFlow::Continue(())
    });
    if let Err(LedgerError::Read(ReadError::Limit(e))) = &result {
        assert!(!e.message_zh().is_empty());
        let _ = e.to_string();
    }
    check_result(result);
}

fn check_result(result: Result<xiuhua_xlsx::LedgerInfo, LedgerError>) {
    match result {
        Ok(info) => {
            assert!(!info.sheets.is_empty(), "Ok without a header sheet");
            assert!(info.format.is_some());
            for h in &info.sheets {
                assert_eq!(h.names.len(), h.fields.len());
                assert!(h.row >= 1);
            }
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.message_zh();
        }
    }
}

/// What the importer does with a cell: dates, years, booleans, identity numbers.
fn interpret(field: Field, value: &CellValue) {
    let _ = value.display();
    let _ = value.is_empty();
    let _ = cell::parse_date(value);
    let _ = cell::parse_year(value);
    let _ = cell::parse_bool(value);
    if field == Field::ID_NUMBER
        && let Ok(text) = cell::id_number_text(value)
        && let Ok(id) = IdNumber::parse(&text)
    {
        let _ = id.masked();
        let _ = id.birth_date();
        let _ = id.sex();
    }
}
