-- Failed sign-ins of the last 15 minutes, per account ("account:ann") and per source address ("address:10.0.0.1"): in the
-- database, so that every server node throttles on the same count and a restart forgets nothing (SignInThrottle).
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,            -- account:NAME or address:IP
    at BIGINT NOT NULL                -- unix ms
);
CREATE INDEX sign_in_failures_subject ON sign_in_failures (subject, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
