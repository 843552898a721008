-- Whether a build run's branch was protected when the run was made (1) or not (0). A job gets protected variables and
-- secrets only when it was and still is: retrying an old run of a branch that was protected later (a name such as
-- release/2 is easy to guess and to push to first) must not hand that run's unreviewed commit the protected values.
-- Runs that had finished before this column count as unprotected (a retry of one gets no protected value: start a new
-- run); runs still queued or running take their branch's protection as it is now, so work in flight during the upgrade
-- goes on. No row is left NULL, and NULL (a run written by an older node during a rolling upgrade) counts as 0.
ALTER TABLE runs ADD COLUMN branch_protected INTEGER;
UPDATE runs SET branch_protected = CASE
    WHEN status IN ('queued', 'running') AND (
        branch = (SELECT p.default_branch FROM projects p WHERE p.id = runs.project_id)
        OR EXISTS (SELECT 1 FROM protected_branches b WHERE b.project_id = runs.project_id AND b.branch = runs.branch))
    THEN 1 ELSE 0 END;
