-- A node agent is bound to its target when it registers (--target PROJECT/ENV/TARGET), once: a target's steps are handed
-- only to the agent registered for that very target, and such an agent never takes a pool job (decided by this column,
-- not by whatever a target row names).
ALTER TABLE agents ADD COLUMN node_target TEXT;
