-- The lease sweeper looks every second for running stages whose jobs have all finished (a finish whose node died
-- before it evaluated the run, JobLeaseStore.FinishAsync): only the running stages are indexed, a handful at any time.
CREATE INDEX stages_running ON stages(run_id, idx) WHERE status = 'running';
