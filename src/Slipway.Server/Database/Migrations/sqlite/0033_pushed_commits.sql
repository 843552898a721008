-- Who pushed which commits into a hosted repository. A commit's author and committer are whatever the pusher wrote, so
-- segregation of duties cannot rest on them alone: nobody approves a change request containing a commit they pushed.
CREATE TABLE pushed_commits (
    project_id BIGINT NOT NULL,
    sha TEXT NOT NULL,
    pushed_by TEXT NOT NULL,
    pushed_at BIGINT NOT NULL,        -- unix ms
    PRIMARY KEY (project_id, sha, pushed_by)
);
-- Everyone who wrote or pushed a commit of a change request, taken when it was merged (JSON list of usernames): they may
-- not approve the deployment of a release that contains the merge, as its author and merger may not.
ALTER TABLE change_requests ADD COLUMN contributors TEXT;
