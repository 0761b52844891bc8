-- The access-log page filters by action, newest first (issue 13): an index on (action, at) finds
-- one action's entries without scanning the whole log by time.
CREATE INDEX access_log_action ON access_log (action, at);
