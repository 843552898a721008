-- Why a job's attempt failed, typed (Core JobFailureKind: step, agent_lost, setup, cancelled) beside the readable
-- failure_reason, so that code never parses the reason's wording (issue 12). Jobs that failed before this migration
-- were told apart by the reason's prefix "agent lost"; they are given the kind it meant.
ALTER TABLE jobs ADD COLUMN failure_kind TEXT;
UPDATE jobs SET failure_kind = 'agent_lost' WHERE failure_reason LIKE 'agent lost%' OR failure_reason LIKE 'attempt failed, retrying: agent lost%';
UPDATE jobs SET failure_kind = 'cancelled' WHERE failure_kind IS NULL AND status = 'cancelled';
UPDATE jobs SET failure_kind = 'step' WHERE failure_kind IS NULL AND status = 'failed';
