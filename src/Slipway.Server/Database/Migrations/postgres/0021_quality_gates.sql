-- Quality gates (issue 14): metrics reported by jobs, gates configured per environment, sign-offs, and the gate results
-- that allowed (or held) each deployment, kept as evidence.

-- One row per value of a job's metrics file (metrics: in the pipeline file), parsed by the server.
CREATE TABLE job_metrics (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    format TEXT NOT NULL,             -- k6, artillery, autocannon, plain
    metric TEXT NOT NULL,
    stat TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    unit TEXT,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX job_metrics_run ON job_metrics (run_id);

-- Server-side gates of an environment: a branch's pipeline file cannot weaken them.
CREATE TABLE environment_gates (
    id BIGSERIAL PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,               -- verify, metric, signoff
    measured_on TEXT,                 -- an environment's name, or 'ci' for a metric of the release's own run
    rule TEXT,                        -- a metric gate's rule, e.g. 'http_req_duration p95 < 300 ms'
    signoff_kind TEXT,                -- uat, acceptance, exploratory, ...
    role TEXT,                        -- the role a sign-off must come from
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX environment_gates_env ON environment_gates (environment_id);

-- A person's verdict on a release on an environment.
CREATE TABLE signoffs (
    id BIGSERIAL PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    accepted BOOLEAN NOT NULL,
    notes TEXT NOT NULL,
    signed_by TEXT NOT NULL,
    signer_roles TEXT NOT NULL,       -- the signer's roles when signing, comma-separated (a later grant change does not rewrite history)
    charter TEXT,                     -- exploratory sessions: what was explored
    minutes INTEGER,                  -- exploratory sessions: time spent
    findings TEXT,                    -- exploratory sessions: one finding per line
    signed_at BIGINT NOT NULL
);
CREATE INDEX signoffs_release ON signoffs (release_id);

-- The gate results judged when a deployment was requested (and why it was allowed or held): the evidence an auditor reads.
CREATE TABLE deployment_gate_results (
    deployment_id BIGINT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    gate TEXT NOT NULL,
    outcome TEXT NOT NULL,            -- passed, failed, inconclusive
    detail TEXT NOT NULL,
    measured DOUBLE PRECISION,
    baseline DOUBLE PRECISION,
    PRIMARY KEY (deployment_id, position)
);

-- An inconclusive gate holds a deployment (awaiting approval) until an approver decides with a reason.
ALTER TABLE deployments ADD COLUMN gate_hold TEXT;
