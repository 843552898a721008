-- Core schema (issue 2). Timestamps are unix milliseconds (UTC); booleans are 0/1 integers.
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE,
  is_admin INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NULL
);
CREATE TABLE projects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  repo_url TEXT NOT NULL,
  default_branch TEXT NOT NULL,
  webhook_secret TEXT NOT NULL,
  next_run_number INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  last_fetch_at INTEGER NULL,
  last_fetch_error TEXT NULL
);
CREATE TABLE branches (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  head TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, name)
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  number INTEGER NOT NULL,
  branch TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  commit_message TEXT NULL,
  trigger TEXT NOT NULL,
  status TEXT NOT NULL,
  failure_reason TEXT NULL,
  lint_errors TEXT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER NULL,
  finished_at INTEGER NULL,
  UNIQUE (project_id, number)
);
CREATE INDEX runs_by_project ON runs(project_id, id);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE stages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  skipped_by_filter INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NULL,
  finished_at INTEGER NULL,
  UNIQUE (run_id, idx)
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  stage_idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  pool TEXT NOT NULL,
  labels TEXT NOT NULL,
  spec TEXT NOT NULL,
  retries_left INTEGER NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  agent_id INTEGER NULL,
  lease_id TEXT NULL,
  lease_expires_at INTEGER NULL,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  exit_code INTEGER NULL,
  failure_reason TEXT NULL,
  test_summary TEXT NULL,
  log_bytes INTEGER NOT NULL DEFAULT 0,
  log_truncated INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  queued_at INTEGER NULL,
  started_at INTEGER NULL,
  finished_at INTEGER NULL,
  UNIQUE (run_id, name)
);
CREATE INDEX jobs_queue ON jobs(status, pool, id);
CREATE INDEX jobs_by_agent ON jobs(agent_id, status);
CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  stage_idx INTEGER NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  executable INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (job_id, path)
);
CREATE INDEX artifacts_by_run ON artifacts(run_id);
CREATE TABLE agents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  pool TEXT NOT NULL,
  labels TEXT NOT NULL,
  slots INTEGER NOT NULL,
  credential_hash TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  protocol_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NULL
);
CREATE TABLE registration_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT NOT NULL UNIQUE,
  pool TEXT NOT NULL,
  pre_approved INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NULL
);
