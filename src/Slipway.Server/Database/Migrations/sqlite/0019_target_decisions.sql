-- on_failure: pause (issue 13): a failed target waits in state 'paused' until a deployer decides, for that target only,
-- retry, skip or abort. The decision waits here until the deploy agent takes it up (then it is cleared).
ALTER TABLE deployment_target_results ADD COLUMN decision TEXT;
ALTER TABLE deployment_target_results ADD COLUMN decided_by TEXT;
