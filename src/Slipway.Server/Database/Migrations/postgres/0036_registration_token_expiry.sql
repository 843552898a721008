-- When a registration token stops admitting agents (unix ms; null: never). Tokens made before this migration keep
-- admitting agents until revoked, as they did; new ones expire after 7 days unless asked otherwise.
ALTER TABLE registration_tokens ADD COLUMN expires_at BIGINT NULL;
