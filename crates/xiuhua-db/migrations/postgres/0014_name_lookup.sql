-- dialect: PostgreSQL compares text in the database's collation; SQLite's BINARY is already code-point order.
-- A name search is a range over the name indexes (`households_head_name`, `members_name`):
-- `name >= '韦' AND name < '韦\u{10FFFF}'` finds every name beginning with 韦. The range is right
-- only in code-point order: under a language collation (en_US, zh_CN) U+10FFFF may sort anywhere
-- or be ignored. The name columns therefore compare in "C" (code-point) order whatever the
-- database's locale; their indexes are rebuilt with it.
ALTER TABLE households ALTER COLUMN head_name TYPE TEXT COLLATE "C";
ALTER TABLE members ALTER COLUMN name TYPE TEXT COLLATE "C";
