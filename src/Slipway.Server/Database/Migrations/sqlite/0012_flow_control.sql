-- Flow control (issue 11, findings 2 and 4). Which branches release, and which tags are release tags, are the
-- project's server-side settings, never the pipeline file a branch brings. One row per project that changed them;
-- no row: the defaults (the default branch releases; tags matching v* are protected). Both lists are JSON arrays
-- of strings. Only protected branches may be in `branches` (checked when set, and again when a run is planned).
CREATE TABLE release_settings (
  project_id INTEGER PRIMARY KEY REFERENCES projects(id),
  branches TEXT NOT NULL,
  protected_tags TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);

-- A protected variable or secret (0/1) reaches only runs of protected branches and deployments.
ALTER TABLE project_variables ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;
-- Fail closed: secrets set before this migration were readable by any branch's job that listed them; from now on
-- they are protected (an admin can unprotect one with: slipway var set PROJECT NAME --secret --unprotected ...).
UPDATE project_variables SET protected = 1 WHERE secret = 1;
