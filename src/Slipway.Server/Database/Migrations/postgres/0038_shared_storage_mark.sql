-- The mark that proves every server node uses the same blob store and hosted-repository directory (Nodes/SharedStorageCheck):
-- the first node on PostgreSQL writes it into both and then here; every node finds it in both when it starts, or refuses
-- to start, instead of answering 404 for artifacts and empty logs behind the load balancer. Unused on SQLite (one node).
CREATE TABLE shared_storage_mark (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  mark TEXT NOT NULL,
  node TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
