-- The approver role an approval was given under (issue 5): an approval counts only while the environment still
-- requires that role, so changing the approver role while a deployment awaits approval dismisses earlier approvals
-- (they were checked against the old role). NULL: the environment named no role then.
ALTER TABLE deployment_approvals ADD COLUMN approver_role TEXT NULL;
-- Approvals given before this migration were checked against their environment's approver role as it is now.
UPDATE deployment_approvals SET approver_role =
  (SELECT e.approver_role FROM deployments d JOIN environments e ON e.id = d.environment_id WHERE d.id = deployment_approvals.deployment_id);
