-- Periods carry the household's 村民小组, so "as of" counts of a village's groups and of a group
-- come from the periods like every other level. Existing periods take the household's current
-- group where the period is in the household's current village (groups are rarely changed on
-- their own); new and re-derived periods record the group as it was.
ALTER TABLE household_periods ADD COLUMN group_code TEXT;
UPDATE household_periods SET group_code = (
    SELECT h.group_code FROM households h
    WHERE h.county_code = household_periods.county_code
      AND h.id = household_periods.household_id
      AND h.village_code = household_periods.village_code
);
