-- Fast region pages.
-- 1. `village_counts` holds households and people per village, registry status and monitoring
--    status. It is maintained in the same transaction as every registry write (and rebuilt after
--    bulk loads), so county and township pages sum a few hundred rows instead of grouping every
--    household.
-- 2. The members index gains `id`, so "members of a household ORDER BY id" uses it (SQLite
--    otherwise chose a scan of the primary key for the ORDER BY).
-- 3. A covering index lets "as of" counts read the periods from the index alone.
CREATE TABLE village_counts (
    county_code TEXT NOT NULL,
    township_code TEXT NOT NULL,
    village_code TEXT NOT NULL,
    status TEXT NOT NULL,
    monitoring TEXT NOT NULL,
    households BIGINT NOT NULL,
    people BIGINT NOT NULL,
    PRIMARY KEY (county_code, village_code, status, monitoring)
);

INSERT INTO village_counts (county_code, township_code, village_code, status, monitoring, households, people)
SELECT county_code, township_code, village_code, status, monitoring, COUNT(*), CAST(COALESCE(SUM(member_count), 0) AS BIGINT)
FROM households
GROUP BY county_code, township_code, village_code, status, monitoring;

DROP INDEX members_household;
CREATE INDEX members_household ON members (county_code, household_id, id);

CREATE INDEX household_periods_counts ON household_periods (county_code, valid_from, valid_to, township_code, village_code, status, monitoring, members);
