-- dialect: PostgreSQL creates these UNLOGGED, from the registry tables (LIKE); SQLite lists the same columns.
-- Staging tables of the bulk writes (`xiuhua_db::bulk::insert_bulk`). On PostgreSQL an import's
-- chunk or a demo batch copies its rows with COPY … FROM STDIN into them on a native connection
-- (sqlx's Any driver cannot issue COPY) and moves them into the registry with INSERT … SELECT
-- inside the writer's transaction. SQLite's bulk path inserts straight into the registry and
-- never uses them; they exist so that both backends keep the same schema. `batch` keys the
-- rows of one writer. Not backed up (`backup::NOT_BACKED_UP`): empty outside a bulk write.
CREATE TABLE staged_households (
    batch BIGINT NOT NULL,
    county_code TEXT NOT NULL,
    id BIGINT NOT NULL,
    township_code TEXT NOT NULL,
    village_code TEXT NOT NULL,
    group_code TEXT,
    household_no TEXT NOT NULL,
    head_name TEXT NOT NULL,
    head_id_number TEXT NOT NULL,
    status TEXT NOT NULL,
    monitoring TEXT NOT NULL,
    monitor_type TEXT,
    exit_year INTEGER,
    member_count INTEGER NOT NULL,
    version BIGINT NOT NULL,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE staged_members (
    batch BIGINT NOT NULL,
    county_code TEXT NOT NULL,
    id BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT,
    relation TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE staged_events (
    batch BIGINT NOT NULL,
    county_code TEXT NOT NULL,
    id BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    source_ref TEXT,
    changes TEXT NOT NULL
);
CREATE TABLE staged_household_periods (
    batch BIGINT NOT NULL,
    county_code TEXT NOT NULL,
    household_id BIGINT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    township_code TEXT NOT NULL,
    village_code TEXT NOT NULL,
    status TEXT NOT NULL,
    monitoring TEXT NOT NULL,
    members INTEGER NOT NULL,
    group_code TEXT
);
CREATE INDEX staged_households_batch ON staged_households (batch);
CREATE INDEX staged_members_batch ON staged_members (batch);
CREATE INDEX staged_events_batch ON staged_events (batch);
CREATE INDEX staged_household_periods_batch ON staged_household_periods (batch);
