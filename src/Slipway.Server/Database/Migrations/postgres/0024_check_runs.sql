-- Script live checks (issue 14): a check's script runs as a one-job run on the environment's pool. Such a run is
-- neither a build (no run number, not in CI lists, never released) nor a deployment: check_id names its check.
ALTER TABLE runs ADD COLUMN check_id BIGINT;
ALTER TABLE live_checks ADD COLUMN script TEXT;
-- A release check: the name of a check the release's own pipeline file offers (deploy: checks:), run from the snapshot of
-- the release current on the environment.
ALTER TABLE live_checks ADD COLUMN release_check TEXT;
