-- API tokens for department data pushes, and the pushed files.
-- A token is bound to one department and one region and may only push; only its SHA-256 is kept.
CREATE TABLE api_tokens (
    id BIGINT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    department TEXT NOT NULL,
    region_code TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);

CREATE TABLE department_batches (
    id BIGINT PRIMARY KEY,
    department TEXT NOT NULL,
    region_code TEXT NOT NULL,
    token_id BIGINT NOT NULL REFERENCES api_tokens (id),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows BIGINT NOT NULL,
    matched BIGINT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX department_batches_file ON department_batches (department, region_code, sha256);

CREATE TABLE department_records (
    batch_id BIGINT NOT NULL REFERENCES department_batches (id),
    row_no BIGINT NOT NULL,
    id_number TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (batch_id, row_no)
);
CREATE INDEX department_records_id_number ON department_records (id_number);
