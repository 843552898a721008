-- What a draining node still has in hand, so an operator stops it only once it is drained (Core/Nodes/NodeStates,
-- slipway node drain NAME --wait). Written by each heartbeat: the requests the node was handling (not counting those
-- that wait by design: agents' long polls, followed logs), the jobs its embedded agent was running, and whether the
-- node already knew it drains when it counted (a count from before that may miss work the balancer still sent it).
-- NULL counts: a node of an earlier version, which does not report them.
ALTER TABLE server_nodes ADD COLUMN open_requests BIGINT NULL;
ALTER TABLE server_nodes ADD COLUMN embedded_jobs BIGINT NULL;
ALTER TABLE server_nodes ADD COLUMN counted_draining BIGINT NOT NULL DEFAULT 0;
