-- Issue 11. A registration token may be bound to one agent name: only that token may take over an agent of that name
-- (the server's embedded agent re-registers on every start with such a token). Ordinary tokens (NULL) never take over
-- a name in use.
ALTER TABLE registration_tokens ADD COLUMN agent_name TEXT NULL;

-- One approval per approver: a deployment approved twice by the same user, or a change request's head commit approved
-- twice by the same reviewer, was stored twice (and counted once). Keep the first of each, then let the database
-- refuse a second one, also from two requests racing.
DELETE FROM deployment_approvals WHERE verdict = 'approve' AND id NOT IN
  (SELECT MIN(id) FROM deployment_approvals WHERE verdict = 'approve' GROUP BY deployment_id, approver);
CREATE UNIQUE INDEX deployment_approvals_one_per_approver ON deployment_approvals(deployment_id, approver) WHERE verdict = 'approve';
DELETE FROM change_request_reviews WHERE verdict = 'approve' AND id NOT IN
  (SELECT MIN(id) FROM change_request_reviews WHERE verdict = 'approve' GROUP BY change_request_id, reviewer, head_sha);
CREATE UNIQUE INDEX change_request_reviews_one_approval ON change_request_reviews(change_request_id, reviewer, head_sha) WHERE verdict = 'approve';
