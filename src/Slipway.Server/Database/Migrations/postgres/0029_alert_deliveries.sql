-- Alerts waiting for delivery, and what became of them: kept in the database, not in a node's memory, so an alert
-- survives a restart, an upgrade or the loss of the node that raised it, and any node may deliver it (AlertSender).
CREATE TABLE alert_deliveries (
    id BIGSERIAL PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES alert_webhooks(id) ON DELETE CASCADE,
    event TEXT NOT NULL,              -- check.failed, check.rollback, ...
    subject TEXT NOT NULL,            -- project/environment, for the log
    body TEXT NOT NULL,               -- what is sent, in the webhook's format
    status TEXT NOT NULL,             -- pending, delivered, refused, gave-up, dropped
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,  -- database clock; while an attempt is under way, when it counts as abandoned
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX alert_deliveries_pending ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_finished ON alert_deliveries (finished_at) WHERE status <> 'pending';
