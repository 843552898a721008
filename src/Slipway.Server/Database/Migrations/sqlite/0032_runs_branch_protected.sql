-- Whether a build run's branch was protected when the run was made (1) or not (0). A job gets protected variables and
-- secrets only when it was and still is: retrying an old run of a branch that was protected later (a name such as
-- release/2 is easy to guess and to push to first) must not hand that run's unreviewed commit the protected values.
-- Finished runs from before this column count as unprotected (a retry of one gets no protected value: start a new run);
-- runs still queued or running keep the old rule (NULL: decided by the branch's protection now), so work in flight
-- during an upgrade goes on.
ALTER TABLE runs ADD COLUMN branch_protected INTEGER;
UPDATE runs SET branch_protected = 0 WHERE status NOT IN ('queued', 'running');
