-- Job logs leave the node's disk (issue 15): while a job runs its output is appended to the database in chunks, so
-- every server node serves the same live log; once the job has ended the chunks are archived to the blob store as one
-- file (archive_key) and deleted. A job with no row here has a log from before this migration: the file
-- logs/JOBID.log in the blob store (the data folder), as it always was.
CREATE TABLE job_logs (
    job_id BIGINT PRIMARY KEY,
    length BIGINT NOT NULL DEFAULT 0,          -- bytes in the log: archived part + chunks
    truncated INTEGER NOT NULL DEFAULT 0,  -- 1 once the job's output passed the log limit
    archived_length BIGINT NOT NULL DEFAULT 0, -- bytes [0, archived_length) are in the blob archive_key
    archive_key TEXT,
    updated_at BIGINT NOT NULL                 -- ms; the archiver waits a little after the last append
);
CREATE TABLE log_chunks (
    job_id BIGINT NOT NULL,
    start_offset BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, start_offset)
);
-- Commits a node is pushing as merges but has not yet recorded as merged: a poll on any node fetching between the push
-- and the record would otherwise take Slipway's own merge for a direct push to a protected branch.
CREATE TABLE merges_in_flight (
    project_id BIGINT NOT NULL,
    commit_sha TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, commit_sha)
);
-- The Data Protection key ring (it encrypts secrets, sign-in cookies and form tokens) of a server on PostgreSQL: every
-- node must decrypt what any node encrypted. A SQLite server keeps its ring in DATA/keys as before.
CREATE TABLE data_protection_keys (
    name TEXT PRIMARY KEY,
    xml TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
