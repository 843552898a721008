-- Scale (issue 15, point 5; bench/scale): indexes for what the dashboards ask of a long history.
-- What is current on each environment: the succeeded deployment that finished last, one backward index probe per environment.
CREATE INDEX deployments_current ON deployments(environment_id, state, finished_at, id);
-- The newest deployment of each environment, whatever its state.
CREATE INDEX deployments_newest ON deployments(environment_id, id);
-- What waits (queued, awaiting approval) across every project, and the conductor's deployments in given states.
CREATE INDEX deployments_by_state ON deployments(state);
