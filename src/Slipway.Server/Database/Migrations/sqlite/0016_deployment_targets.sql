-- The last mile (issue 13): an environment's deployment targets (servers reached by SSH, each host key pinned),
-- the load balancers in front of them (HAProxy runtime API addresses) and what each deployment did to each target.
CREATE TABLE deployment_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    host TEXT NOT NULL,
    ssh_port INTEGER NOT NULL,
    ssh_user TEXT NOT NULL,
    roles TEXT NOT NULL,              -- space-separated role names
    balancer_server TEXT,             -- BACKEND/SERVER in the environment's load balancers, or NULL
    host_key TEXT,                    -- pinned SHA256 fingerprint; NULL refuses every connection until one is accepted
    disabled INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (environment_id, name)
);

CREATE TABLE load_balancers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,               -- haproxy
    address TEXT NOT NULL,            -- runtime API: unix socket path or host:port, as the deploy agent reaches it
    min_healthy INTEGER NOT NULL,
    drain_timeout_seconds INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (environment_id, name)
);

-- One row per target a deployment touched: its batch, where it got to, and the load-balancer state it was left in.
CREATE TABLE deployment_target_results (
    deployment_id BIGINT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    batch INTEGER NOT NULL,
    state TEXT NOT NULL,              -- pending, draining, deploying, enabling, succeeded, failed, not-run, unknown (Contracts TargetStates)
    balancer_state TEXT,              -- ready, drain, maint (as Slipway last set it), NULL when behind no balancer
    step TEXT,
    reason TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (deployment_id, target)
);
