-- Background jobs (imports started from the upload page): who started them, their state, their
-- progress and their outcome survive a restart. A job left queued or running when the server
-- stopped is marked failed at the next start (imports are atomic: nothing half-done remains).
CREATE TABLE jobs (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    region_code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'failed')),
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT,
    result TEXT,
    failure_code TEXT,
    failure TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state);
CREATE INDEX jobs_by_owner ON jobs (owner_id, created_at);
