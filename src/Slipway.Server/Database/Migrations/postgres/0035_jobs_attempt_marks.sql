-- The marks of a job's later attempts (space-separated, 8 hex each; null: one attempt so far). Each later attempt's log
-- begins with a line of Slipway's own that carries its mark; the run page folds the earlier output only at a line with a
-- mark listed here, so a job printing a look-alike line cannot fold its own output out of sight.
ALTER TABLE jobs ADD COLUMN attempt_marks TEXT;
