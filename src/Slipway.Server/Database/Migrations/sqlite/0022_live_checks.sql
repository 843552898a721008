-- Live checks (issue 14, item 4): HTTP checks of an environment run on a schedule, their bounded history, the one action
-- a failing check took in a deployment's watch window, and the webhooks alerts go to.

-- Server-side, per environment: a branch's pipeline file cannot change them.
CREATE TABLE live_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,               -- http
    url TEXT NOT NULL,
    expect_status INTEGER NOT NULL,
    body_contains TEXT,
    timeout_ms BIGINT NOT NULL,
    every_seconds BIGINT,             -- either every_seconds or cron
    cron TEXT,
    time_zone TEXT,
    watch_seconds BIGINT NOT NULL,    -- the watch window after each successful deployment; 0: none
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_run_at BIGINT,
    last_ok INTEGER
);
CREATE INDEX live_checks_env ON live_checks (environment_id);

-- History, pruned to the latest results of each check.
CREATE TABLE live_check_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id BIGINT NOT NULL REFERENCES live_checks(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    ok INTEGER NOT NULL,
    status_code INTEGER,
    duration_ms BIGINT NOT NULL,
    detail TEXT NOT NULL,
    deployment_id BIGINT REFERENCES deployments(id) ON DELETE SET NULL  -- the deployment whose watch window it fell in
);
CREATE INDEX live_check_results_check ON live_check_results (check_id, id);

-- What a failing check did in a deployment's watch window: the primary key makes it once per deployment, whichever
-- check failed first and however many runner passes see the failure.
CREATE TABLE live_check_window_actions (
    deployment_id BIGINT PRIMARY KEY REFERENCES deployments(id) ON DELETE CASCADE,
    check_id BIGINT NOT NULL,
    action TEXT NOT NULL,             -- rollback, ask-person
    at BIGINT NOT NULL
);

-- Where alerts go: per project, or per environment of it. The address is kept encrypted (a Slack webhook's path is its secret).
CREATE TABLE alert_webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    environment_id BIGINT REFERENCES environments(id) ON DELETE CASCADE,  -- null: every environment of the project
    url_protected TEXT NOT NULL,
    url_shown TEXT NOT NULL,          -- scheme, host and port only
    format TEXT NOT NULL,             -- json, slack
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX alert_webhooks_project ON alert_webhooks (project_id);
