-- dialect: SQLite cannot alter a constraint (the table is rebuilt); PostgreSQL alters it.
-- The members → households foreign key is checked when the transaction commits instead of
-- after every statement. Together with `INSERT OR ROLLBACK` for multi-row inserts (see
-- `sql::insert_rows`), SQLite then no longer keeps a statement journal (a copy of every page a
-- statement touches, in case it must be undone alone): a third of a bulk import's database
-- work. A member without its household is still refused, at commit. SQLite cannot alter a
-- constraint, so the table is rebuilt.
CREATE TABLE members_new (
    county_code TEXT NOT NULL,
    id BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    id_number TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT,
    relation TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id)
        DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO members_new (county_code, id, household_id, id_number, name, sex, birth_date, relation, data)
SELECT county_code, id, household_id, id_number, name, sex, birth_date, relation, data FROM members;
DROP TABLE members;
ALTER TABLE members_new RENAME TO members;
CREATE UNIQUE INDEX members_id_number ON members (id_number);
CREATE INDEX members_household ON members (county_code, household_id, id);
CREATE INDEX members_name ON members (name);
