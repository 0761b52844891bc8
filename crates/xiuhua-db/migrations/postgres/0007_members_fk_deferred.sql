-- dialect: SQLite cannot alter a constraint (the table is rebuilt); PostgreSQL alters it.
-- The members → households foreign key is checked when the transaction commits, as on SQLite
-- (where this spares bulk inserts a statement journal; see the SQLite migration).
ALTER TABLE members ALTER CONSTRAINT members_county_code_household_id_fkey DEFERRABLE INITIALLY DEFERRED;
