-- Work items and their links (issue 4, parts 1 and 2). A project's key prefix (SHOP) makes its items'
-- keys (SHOP-42); prefixes are unique across projects so a key names one item. Numbers come from
-- projects.next_item_number, taken with UPDATE ... RETURNING in the creating transaction (as run numbers),
-- so concurrent creators get distinct numbers without gaps. An item's state is derived from its links
-- (never stored). Timestamps are unix milliseconds.
ALTER TABLE projects ADD COLUMN item_key_prefix TEXT NULL;
ALTER TABLE projects ADD COLUMN next_item_number INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX projects_by_item_key_prefix ON projects(item_key_prefix);

-- Problems found while starting a run that do not fail it (a key naming no work item): a JSON list of strings.
ALTER TABLE runs ADD COLUMN warnings TEXT NULL;

CREATE TABLE work_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  number INTEGER NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  kind TEXT NOT NULL,
  requester TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  UNIQUE (project_id, number)
);

-- What names an item: kind 'branch' (ref = branch name), 'commit' (ref = commit sha) or 'run' (ref = run
-- number, run_id set). actor: the commit's author or the user who started the run (NULL when a push did);
-- at: when Slipway first saw it. One row per (item, kind, ref): the first sighting is kept.
CREATE TABLE work_item_links (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  item_id INTEGER NOT NULL REFERENCES work_items(id),
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  run_id INTEGER NULL REFERENCES runs(id),
  actor TEXT NULL,
  at INTEGER NOT NULL,
  UNIQUE (item_id, kind, ref)
);
