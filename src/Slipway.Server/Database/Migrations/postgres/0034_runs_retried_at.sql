-- When a finished run was last retried (unix ms; null: never). The run keeps its first start, so the run page can say how
-- long it took since the retry apart from the whole, which includes the wait before someone pressed Retry.
ALTER TABLE runs ADD COLUMN retried_at BIGINT;
