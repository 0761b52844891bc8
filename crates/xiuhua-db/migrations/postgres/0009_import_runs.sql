-- Ledger imports write in chunks, each its own short transaction, so that other writers (logins,
-- the access log, edits) get the database between them. A run is recorded before its first
-- chunk: `writing` while chunks are stored, `done` after the last, `undone` once a failed or
-- interrupted run's events were taken back out (at the next start, if the process died). Every
-- event of a run names it in `source_ref` (`… 导入#<id> 行…`).
CREATE TABLE import_runs (
    id BIGINT PRIMARY KEY,
    county_code TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('writing', 'done', 'undone')),
    chunks BIGINT NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX import_runs_by_state ON import_runs (state);
