-- Login failures (for temporary lockout after repeated wrong passwords) and the access log:
-- logins, views of full personal data, exports and rule loads (registry changes are in `events`).
CREATE TABLE login_failures (
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    client TEXT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, failed_at);

CREATE TABLE access_log (
    id BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    client TEXT NOT NULL
);
CREATE INDEX access_log_user ON access_log (username, at);
CREATE INDEX access_log_target ON access_log (target, at);
CREATE INDEX access_log_at ON access_log (at);
