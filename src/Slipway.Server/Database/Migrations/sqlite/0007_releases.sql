-- Releases (issue 4, part 5). A green run on the release branch named by its commit's pipeline file creates a
-- release; a user with release.create can create one by hand from any green run. Immutable: nothing updates or
-- deletes these rows. UNIQUE(run_id) makes a second release of one run impossible (the automatic creator and a
-- hand both trying, a crash between creating and noting it); UNIQUE(project_id, version) keeps versions distinct.
-- created_by NULL: created automatically. Timestamps are unix milliseconds.
CREATE TABLE releases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  version TEXT NOT NULL,
  run_id INTEGER NOT NULL UNIQUE REFERENCES runs(id),
  commit_sha TEXT NOT NULL,
  branch TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NULL,
  pipeline_snapshot TEXT NOT NULL,
  test_summary TEXT NULL,
  notes TEXT NOT NULL,
  UNIQUE (project_id, version)
);

-- The run's artifacts as they were when the release was made; their files are checked against sha256 on every read.
CREATE TABLE release_artifacts (
  release_id INTEGER NOT NULL REFERENCES releases(id),
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (release_id, path)
);

-- The work items new in the release (named by a commit since the previous release).
CREATE TABLE release_items (
  release_id INTEGER NOT NULL REFERENCES releases(id),
  item_id INTEGER NOT NULL REFERENCES work_items(id),
  PRIMARY KEY (release_id, item_id)
);
CREATE INDEX release_items_by_item ON release_items(item_id);

-- Set when the run starts: the version a green run will be released as (its branch is its pipeline file's release
-- branch). The release creator looks for succeeded runs with a version and no release, so a crash between the run
-- succeeding and the release being written only delays the release. release_error: why the automatic creation
-- gave up (a version taken already); the run is not tried again.
ALTER TABLE runs ADD COLUMN release_version TEXT NULL;
ALTER TABLE runs ADD COLUMN release_error TEXT NULL;
CREATE INDEX runs_release_pending ON runs(status) WHERE release_version IS NOT NULL AND release_error IS NULL;
