-- Several server nodes on one database (issue 15). Times are unix milliseconds; on PostgreSQL they come from the
-- database's clock (never a node's), so nodes whose clocks disagree still agree on heartbeats and lease ends.

-- One row per node that ever started: its version, last heartbeat, whether it drains (takes no new work) and when it
-- stopped gracefully (null while running, or after a kill: then only the heartbeat's age tells it is gone).
CREATE TABLE server_nodes (
  name TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  draining INTEGER NOT NULL DEFAULT 0,
  stopped_at INTEGER NULL
);

-- The leader lease of each once-only duty (git polling, lease sweeping, ...). holder is null once released.
-- fencing_token goes up by one on every takeover and never down: every write a duty's pass makes checks, in its own
-- transaction, that its node still holds the duty under the token it started with.
CREATE TABLE duty_leases (
  duty TEXT PRIMARY KEY,
  holder TEXT NULL,
  fencing_token INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
