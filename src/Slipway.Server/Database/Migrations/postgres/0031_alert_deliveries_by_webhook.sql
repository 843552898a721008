-- Each webhook's latest delivery (the webhook list and the environment page, at every view) and the cascade when a webhook
-- is removed read alert_deliveries by webhook: without this they scanned up to 30 days of deliveries.
CREATE INDEX alert_deliveries_webhook ON alert_deliveries (webhook_id, id);
