-- A county's own ledger column names (issue 14): mapped to catalogue fields in the upload page's
-- column dialog and saved for the county, read by every later import of it (web and CLI).
-- `header` is the header as written, normalised as the reader matches it
-- (`xiuhua_xlsx::columns::normalise_header`); `header_written` is what the user saw.
CREATE TABLE column_mappings (
    county_code TEXT NOT NULL,
    header TEXT NOT NULL,
    header_written TEXT NOT NULL,
    field TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (county_code, header)
);
