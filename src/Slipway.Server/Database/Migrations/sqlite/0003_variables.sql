-- Per-project variables (issue 3, part 6). A plain variable keeps its value in `value`; a secret keeps
-- only `ciphertext` (ASP.NET Core Data Protection, purpose "Slipway.Secrets.v1", keys in DATA/keys) and
-- `value` is NULL. Timestamps are unix milliseconds; `secret` is 0/1.
CREATE TABLE project_variables (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  value TEXT NULL,
  secret INTEGER NOT NULL DEFAULT 0,
  ciphertext TEXT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (project_id, name)
);
