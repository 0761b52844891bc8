-- dialect: PostgreSQL only: staging tables for COPY; SQLite's bulk inserts need none.
-- On PostgreSQL, bulk writes (`xiuhua_db::bulk::insert_bulk`) copy their rows with COPY into
-- staging tables and move them into the registry inside the writer's transaction. SQLite writes
-- the same rows with prepared multi-row INSERTs straight into the registry tables: nothing to
-- create here (the migration exists so that both folders keep the same numbering).
SELECT 1;
