-- Script load balancers (issue 13): kind 'script' beside 'haproxy'. The deploy agent runs these commands (admin
-- configuration, /bin/sh -c) with the target in SLIPWAY_LB_* environment variables; all three are set for kind
-- 'script' and null for 'haproxy'. A script balancer's address is ''.
ALTER TABLE load_balancers ADD COLUMN drain_command TEXT;
ALTER TABLE load_balancers ADD COLUMN enable_command TEXT;
ALTER TABLE load_balancers ADD COLUMN status_command TEXT;
