-- A web session opened with an API token ends when that token is revoked or expires (issue 3 hardening).
ALTER TABLE sessions ADD COLUMN token_id INTEGER NULL REFERENCES api_tokens(id);
