-- dialect: PostgreSQL creates these UNLOGGED, from the registry tables (LIKE); SQLite lists the same columns.
-- Bulk writes (`xiuhua_db::bulk::insert_bulk`: an import's chunks, the demo's batches) copy
-- their rows with `COPY … FROM STDIN` into these tables on a native connection (sqlx's Any
-- driver cannot issue COPY), then move them into the registry with one INSERT … SELECT per table
-- inside the writer's transaction and delete them there. UNLOGGED: nothing here needs to
-- survive a crash (a crash rolls back the transaction that would have used the rows). `batch`
-- keys the rows of one writer.
CREATE UNLOGGED TABLE staged_households (batch BIGINT NOT NULL, LIKE households);
CREATE UNLOGGED TABLE staged_members (batch BIGINT NOT NULL, LIKE members);
CREATE UNLOGGED TABLE staged_events (batch BIGINT NOT NULL, LIKE events);
CREATE UNLOGGED TABLE staged_household_periods (batch BIGINT NOT NULL, LIKE household_periods);
CREATE INDEX staged_households_batch ON staged_households (batch);
CREATE INDEX staged_members_batch ON staged_members (batch);
CREATE INDEX staged_events_batch ON staged_events (batch);
CREATE INDEX staged_household_periods_batch ON staged_household_periods (batch);
