-- Environments and deployments (issue 5). Environments are server-side configuration per project (never read from
-- a branch's pipeline file); position orders the lifecycle. deployers: a JSON list of 'role:NAME' / 'user:NAME'
-- entries (empty: anyone with deployment.start on the project). Timestamps are unix milliseconds.
CREATE TABLE environments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  optional INTEGER NOT NULL,
  pool TEXT NOT NULL,
  deployers TEXT NOT NULL,
  required_approvals INTEGER NOT NULL,
  approver_role TEXT NULL,
  auto_deploy INTEGER NOT NULL,
  queue_policy TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  UNIQUE (project_id, name)
);

-- Freeze windows: recurring (cron + duration + time zone) or one-off (from_at .. to_at).
CREATE TABLE freeze_windows (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  environment_id INTEGER NOT NULL REFERENCES environments(id),
  name TEXT NOT NULL,
  cron TEXT NULL,
  duration_seconds INTEGER NULL,
  time_zone TEXT NULL,
  from_at INTEGER NULL,
  to_at INTEGER NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);

-- Variables and secrets scoped to one environment: sent only to that environment's deployment jobs.
CREATE TABLE environment_variables (
  environment_id INTEGER NOT NULL REFERENCES environments(id),
  name TEXT NOT NULL,
  value TEXT NULL,
  ciphertext TEXT NULL,
  secret INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (environment_id, name)
);

-- Deployments of a release to an environment. state: awaiting_approval, queued, running, succeeded, failed,
-- cancelled, rejected, superseded, unknown. kind: deploy, promote, rollback, auto (a new release to an
-- auto-deploy environment). At most one running deployment per environment: the unique partial index is the lock,
-- so two requests racing can never both run. emergency_reason: set when a break-glass holder deployed during a
-- freeze. rollback_of: the failed deployment an automatic or manual rollback answers. run_id: the run executing it.
ALTER TABLE projects ADD COLUMN next_deployment_number INTEGER NOT NULL DEFAULT 1;
CREATE TABLE deployments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  number INTEGER NOT NULL,
  environment_id INTEGER NOT NULL REFERENCES environments(id),
  release_id INTEGER NOT NULL REFERENCES releases(id),
  previous_release_id INTEGER NULL REFERENCES releases(id),
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  initiator TEXT NOT NULL,
  emergency_reason TEXT NULL,
  rollback_of INTEGER NULL REFERENCES deployments(id),
  requested_at INTEGER NOT NULL,
  queued_at INTEGER NULL,
  started_at INTEGER NULL,
  finished_at INTEGER NULL,
  outcome TEXT NULL,
  run_id INTEGER NULL REFERENCES runs(id),
  UNIQUE (project_id, number)
);
CREATE UNIQUE INDEX deployments_one_running ON deployments(environment_id) WHERE state = 'running';
CREATE INDEX deployments_by_environment ON deployments(environment_id, state);
CREATE INDEX deployments_by_run ON deployments(run_id);

-- Approvals and rejections, append-only.
CREATE TABLE deployment_approvals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id INTEGER NOT NULL REFERENCES deployments(id),
  approver TEXT NOT NULL,
  verdict TEXT NOT NULL,
  comment TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX deployment_approvals_by_deployment ON deployment_approvals(deployment_id);

-- A run that executes a deployment (not a build): excluded from branch and change request views.
ALTER TABLE runs ADD COLUMN deployment_id INTEGER NULL;
