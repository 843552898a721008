-- What a draining node still has in hand, so an operator stops it only once it is drained (Core/Nodes/NodeStates,
-- slipway node drain NAME --wait): the requests it was handling at its last heartbeat (not counting those that wait by
-- design: agents' long polls, followed logs), and when the drain was asked for (database clock; null when not draining),
-- so that "drained" needs a heartbeat after it, one at which the node knew.
ALTER TABLE server_nodes ADD COLUMN open_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE server_nodes ADD COLUMN drain_requested_at INTEGER NULL;
-- A node already draining before this migration was asked before any heartbeat to come.
UPDATE server_nodes SET drain_requested_at = 0 WHERE draining <> 0;
