-- Issue 12. A deployment's run is not a CI run: it no longer takes a number from the project's run numbering (which
-- release versions such as 1.0.{run} use), so runs.number becomes NULL for deployment runs. SQLite cannot drop a NOT NULL
-- or a table's UNIQUE constraint, so the table is rebuilt (the migrator runs SQLite scripts with foreign keys off, as
-- SQLite's documented rebuild procedure requires; ids are kept, so stages, jobs, artifacts, releases and work item
-- links still point at the same runs). The unique index lets any number of NULLs through.
CREATE TABLE runs_rebuilt (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  number INTEGER NULL,
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
  warnings TEXT NULL,
  release_version TEXT NULL,
  release_error TEXT NULL,
  deployment_id INTEGER NULL
);
INSERT INTO runs_rebuilt (id, project_id, number, branch, commit_sha, commit_message, trigger, status, failure_reason, lint_errors,
                          created_at, started_at, finished_at, warnings, release_version, release_error, deployment_id)
  SELECT id, project_id, CASE WHEN deployment_id IS NULL THEN number END, branch, commit_sha, commit_message, trigger, status,
         failure_reason, lint_errors, created_at, started_at, finished_at, warnings, release_version, release_error, deployment_id
  FROM runs;
DROP TABLE runs;
ALTER TABLE runs_rebuilt RENAME TO runs;
CREATE UNIQUE INDEX runs_number ON runs(project_id, number);
CREATE INDEX runs_by_project ON runs(project_id, id);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_release_pending ON runs(status) WHERE release_version IS NOT NULL AND release_error IS NULL;
CREATE INDEX runs_by_commit ON runs(project_id, commit_sha);
CREATE INDEX runs_by_deployment ON runs(deployment_id) WHERE deployment_id IS NOT NULL;
