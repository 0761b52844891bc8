//! Arbitrary bytes as an `.xlsx` (or `.xls`) ledger, read with `xiuhua_xlsx::read_ledger` and
//! every cell interpreted as an import would.

#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    // Delimited text is the `ledger_csv` target's job: keep this one on the workbook readers.
    if !xiuhua_fuzz::is_workbook(data) {
        return Corpus::Reject;
    }
    xiuhua_fuzz::read_ledger_bytes(data, "xlsx");
    Corpus::Keep
});
