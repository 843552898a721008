-- Change requests (issue 4, part 4): a source branch into a target branch, reviewed and merged by Slipway.
-- Numbers are per project, taken from projects.next_cr_number in the creating transaction (as work item numbers).
-- state: 'open', 'merged' or 'closed'; every change is a conditional UPDATE ... WHERE state = <expected>, so two
-- merges (or a merge and a close) of one change request never both succeed. head_sha: the source head when the
-- change request was opened or last moved; merge_commit: what Slipway pushed to the target; target_sha: the target's
-- head it was merged onto (with head_sha, the commit range a merged change request shows).
-- auto_merge_by / auto_merge_strategy: set while the change request should merge itself once every rule holds.
-- warnings: a JSON list (work item keys naming nothing). Timestamps are unix milliseconds.
ALTER TABLE projects ADD COLUMN next_cr_number INTEGER NOT NULL DEFAULT 1;

CREATE TABLE change_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  number INTEGER NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  source_branch TEXT NOT NULL,
  target_branch TEXT NOT NULL,
  author TEXT NOT NULL,
  state TEXT NOT NULL,
  head_sha TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  merged_at INTEGER NULL,
  merged_by TEXT NULL,
  merge_commit TEXT NULL,
  target_sha TEXT NULL,
  merge_strategy TEXT NULL,
  closed_at INTEGER NULL,
  closed_by TEXT NULL,
  auto_merge_by TEXT NULL,
  auto_merge_strategy TEXT NULL,
  auto_merge_error TEXT NULL,
  warnings TEXT NULL,
  UNIQUE (project_id, number)
);
CREATE INDEX change_requests_by_source ON change_requests(project_id, source_branch, state);

-- Reviews and comments, append-only. verdict: 'approve', 'request-changes' or 'comment'; head_sha: the head the
-- reviewer saw (an approval counts only for it when the target's rules dismiss stale approvals).
CREATE TABLE change_request_reviews (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  change_request_id INTEGER NOT NULL REFERENCES change_requests(id),
  reviewer TEXT NOT NULL,
  verdict TEXT NOT NULL,
  comment TEXT NOT NULL,
  head_sha TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX change_request_reviews_by_cr ON change_request_reviews(change_request_id);

-- Merge rules per target branch, set by admins; branches without a row use the defaults (1 approval, dismiss stale).
CREATE TABLE merge_rules (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  branch TEXT NOT NULL,
  required_approvals INTEGER NOT NULL,
  dismiss_stale_approvals INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (project_id, branch)
);

-- Which change requests name a work item (title, description, source branch or commit messages).
CREATE TABLE work_item_change_requests (
  item_id INTEGER NOT NULL REFERENCES work_items(id),
  change_request_id INTEGER NOT NULL REFERENCES change_requests(id),
  PRIMARY KEY (item_id, change_request_id)
);
CREATE INDEX work_item_change_requests_by_cr ON work_item_change_requests(change_request_id);

-- External repositories: a credential Slipway uses to push merges (and fetch), encrypted with the Data Protection
-- key ring like secrets. Direct pushes to a protected branch Slipway did not make, detected after a fetch.
ALTER TABLE projects ADD COLUMN git_username TEXT NULL;
ALTER TABLE projects ADD COLUMN git_password_protected TEXT NULL;
CREATE TABLE direct_pushes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  branch TEXT NOT NULL,
  old_head TEXT NULL,
  new_head TEXT NOT NULL,
  detected_at INTEGER NOT NULL
);
CREATE INDEX direct_pushes_by_project ON direct_pushes(project_id, id);

-- A change request reads the runs of its head commit.
CREATE INDEX runs_by_commit ON runs(project_id, commit_sha);
