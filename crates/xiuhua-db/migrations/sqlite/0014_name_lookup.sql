-- dialect: PostgreSQL compares text in the database's collation; SQLite's BINARY is already code-point order.
-- A name search is a range over the name indexes (`households_head_name`, `members_name`):
-- `name >= '韦' AND name < '韦\u{10FFFF}'` finds every name beginning with 韦 from the index,
-- where `LIKE '韦%'` read every row (SQLite's LIKE ignores case and so cannot use the index).
-- The range is right only in code-point order, which SQLite's BINARY collation is: nothing to
-- change here but the index, which 0001 made already.
CREATE INDEX IF NOT EXISTS members_name ON members (name);
