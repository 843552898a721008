-- Node agents (issue 13): a target can be served by an agent running on it (the talk's agent per node) instead of SSH.
-- node_agent names that agent; the deploy agent coordinating a rollout hands such a target's steps to it through
-- node_tasks, one row per step (or connection check), which the node agent claims, runs locally and finishes.
ALTER TABLE deployment_targets ADD COLUMN node_agent TEXT;

CREATE TABLE node_tasks (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,   -- the rollout's deploy job (its lease holder created the task)
    target TEXT NOT NULL,
    agent_name TEXT NOT NULL,         -- the node agent that may claim it (from the target's row, never from the request)
    spec TEXT NOT NULL,               -- JSON NodeTask: kind (check, run, upload), script or destination, variables
    file_sha256 TEXT,                 -- an upload's content, in the artifact store
    state TEXT NOT NULL,              -- queued, running, succeeded, failed, cancelled
    created_at BIGINT NOT NULL,
    claimed_at BIGINT,
    finished_at BIGINT,
    exit_code INTEGER,
    reason TEXT,
    output TEXT                       -- the last 64 KiB of the step's output
);
CREATE INDEX node_tasks_agent ON node_tasks (agent_name, state);

-- The files a rollout job stored for its node tasks: an upload task may only name one of these (never another
-- project's artifact whose digest its agent learnt).
CREATE TABLE node_files (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (job_id, sha256)
);
