//! Arbitrary bytes as a `.csv` ledger (UTF-8, UTF-8 with BOM or GB18030; any delimiter), read
//! with `xiuhua_xlsx::read_ledger` and every cell interpreted as an import would.

#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    // Workbooks are the `ledger_xlsx` target's job.
    if xiuhua_fuzz::is_workbook(data) {
        return Corpus::Reject;
    }
    xiuhua_fuzz::read_ledger_bytes(data, "csv");
    // A mapping file (extra header names) is text too.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = xiuhua_xlsx::columns::parse_mapping(text);
    }
    Corpus::Keep
});
