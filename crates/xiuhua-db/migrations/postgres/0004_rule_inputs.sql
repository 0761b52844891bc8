-- The values of declared inputs (facts the registry does not hold, e.g. a village's hardened
-- road) that a stored result was computed with, as a JSON object; NULL when none were given.
ALTER TABLE rule_results ADD COLUMN inputs TEXT;
