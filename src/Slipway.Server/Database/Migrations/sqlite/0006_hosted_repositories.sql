-- Hosted repositories (issue 4 part 3): branches an admin marks protected. A project's default (release)
-- branch is always protected and needs no row.
CREATE TABLE protected_branches (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  branch TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (project_id, branch)
);
