-- Which earlier releases each release contains: its parents, the nearest earlier releases its commit descends from, found
-- with git when it is made (Core ReleaseLineage). A hotfix from an older release branch then does not contain the main
-- line's newer releases, and their work items are not shown as on the environment it reaches. Releases made before this
-- migration have parents_known = 0 and keep the rule of before: a release contains every release before it.
CREATE TABLE release_parents (
  release_id BIGINT NOT NULL REFERENCES releases(id),
  parent_id BIGINT NOT NULL REFERENCES releases(id),
  PRIMARY KEY (release_id, parent_id)
);
ALTER TABLE releases ADD COLUMN parents_known BIGINT NOT NULL DEFAULT 0;
