-- Issue 12. A deployment's run is not a CI run: it no longer takes a number from the project's run numbering (which
-- release versions such as 1.0.{run} use), so runs.number is NULL for deployment runs. The UNIQUE (project_id, number)
-- constraint lets any number of NULLs through.
ALTER TABLE runs ALTER COLUMN number DROP NOT NULL;
UPDATE runs SET number = NULL WHERE deployment_id IS NOT NULL;
CREATE INDEX runs_by_deployment ON runs(deployment_id) WHERE deployment_id IS NOT NULL;
