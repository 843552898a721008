-- Access (issue 3): accounts, sessions, token expiry and scope, custom roles, grants, the audit log.
-- users.is_admin is superseded by a global 'admin' grant (converted below) and no longer read.
ALTER TABLE users ADD COLUMN display_name TEXT NULL;
ALTER TABLE users ADD COLUMN email TEXT NULL;
ALTER TABLE users ADD COLUMN password_hash TEXT NULL;
ALTER TABLE users ADD COLUMN disabled_at INTEGER NULL;
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER NULL;
ALTER TABLE api_tokens ADD COLUMN scope TEXT NULL; -- comma-separated actions; NULL: all of the user's permissions
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  session_hash TEXT NOT NULL UNIQUE,
  source TEXT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE roles (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  actions TEXT NOT NULL, -- comma-separated
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE grants (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  role TEXT NOT NULL,
  project_id INTEGER NULL REFERENCES projects(id),
  environment TEXT NULL,
  granted_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX grants_unique ON grants(user_id, role, COALESCE(project_id, 0), COALESCE(environment, ''));
INSERT INTO grants (user_id, role, granted_by, created_at) SELECT id, 'admin', 'migration', created_at FROM users WHERE is_admin = 1;

-- Append-only: seq is assigned by the single appender (previous + 1) so a removed entry leaves a gap.
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor_kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NULL,
  action TEXT NOT NULL,
  target TEXT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NULL,
  request_id TEXT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit_log(at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
