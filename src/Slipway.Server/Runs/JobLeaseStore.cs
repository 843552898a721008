using Microsoft.Extensions.Logging;
using Dapper;
using Slipway.Core.Runs;

namespace Slipway.Server.Runs;

/// <summary>The outcome of one job attempt as an agent reports it.</summary>
public sealed record JobResult(ExecutionStatus Outcome, int? ExitCode, string? FailureReason, string? TestSummaryJson, long LogBytes, bool LogTruncated);

/// <summary>What changed when leases ran out or a job finished: pools with new work, runs touched.</summary>
/// <param name="Runs">Runs moved on without a job of theirs changing (the sweep of finished stages), else empty.</param>
public sealed record LeaseChange(IReadOnlyList<string> Pools, IReadOnlyList<long> Jobs, IReadOnlyList<long>? Runs = null);

/// <summary>
/// Jobs as leases held by agents: claim, start, renew, finish, and expiry.
/// Every write is a conditional update on (id, lease_id, status) so a stale agent, a second server node
/// or a racing sweeper can never move a job it no longer owns. Thread-safe.
/// </summary>
public sealed class JobLeaseStore(SqlDatabase db, ILogger<JobLeaseStore>? log = null)
{
    /// <summary>How the failure reason of a job whose agent stopped renewing its lease begins (for people; code reads <see cref="JobFailureKind.AgentLost"/>).</summary>
    public const string AgentLost = "agent lost";

    /// <summary>How many queued jobs of a pool to look at when matching an agent's labels (SQLite; PostgreSQL matches them in SQL).</summary>
    private const int CandidateWindow = 20;

    // A pool an environment deploys from (other than the build pool) gives its agents deployment jobs (and the
    // administrators' live-check scripts) only (DeployPools): whatever a run's plan says, branch code never runs on them.
    private const string Claimable =
        "FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.status = 'queued' AND j.pool = @pool " +
        "AND (r.deployment_id IS NOT NULL OR r.check_id IS NOT NULL OR @pool = @buildPool OR NOT EXISTS (SELECT 1 FROM environments e WHERE e.pool = @pool))";

    public Task<JobRow?> TryClaimAsync(long agentId, string pool, IReadOnlySet<string> agentLabels, TimeSpan lease, long now) =>
        db.WriteAsync<JobRow?>(async (c, tx) =>
        {
            var buildPool = Core.Pipelines.JobDefinition.DefaultPool;
            // PostgreSQL, where several claims run at once (many agents, several nodes): the oldest job this agent's labels
            // allow that no other claim holds, locked as it is read. Without SKIP LOCKED every claim chose the same oldest
            // job and queued behind the one transaction updating it, so claims ran one at a time. SQLite has one writer.
            var candidates = db.Dialect == SqlDialect.Postgres
                ? await c.QueryAsync<JobRow>(
                    $"SELECT j.id, j.labels {Claimable} AND array_remove(string_to_array(j.labels, ','), '') <@ CAST(@labels AS text[]) " +
                    "ORDER BY j.id LIMIT 1 FOR UPDATE OF j SKIP LOCKED",
                    new { pool, buildPool, labels = agentLabels.ToArray() }, tx)
                : await c.QueryAsync<JobRow>($"SELECT j.id, j.labels {Claimable} ORDER BY j.id LIMIT @window",
                    new { pool, buildPool, window = CandidateWindow }, tx);
            foreach (var candidate in candidates)
            {
                var needs = candidate.Labels.Split(',', StringSplitOptions.RemoveEmptyEntries);
                if (!needs.All(agentLabels.Contains)) continue;
                var leaseId = Guid.NewGuid().ToString("N");
                var expires = now + (long)lease.TotalMilliseconds;
                var job = await c.QuerySingleOrDefaultAsync<JobRow>(
                    "UPDATE jobs SET status = 'running', agent_id = @agentId, lease_id = @leaseId, lease_expires_at = @expires, " +
                    "attempt = attempt + 1, started_at = @now WHERE id = @id AND status = 'queued' " +
                    $"RETURNING {RunStore.JobOwnColumns}",
                    new { agentId, leaseId, expires, now, id = candidate.Id }, tx);
                if (job is null) continue; // taken meanwhile
                if (!await RunAndStageRunningAsync(c, tx, job)) await StartRunAndStageAsync(c, tx, job, now);
                return job;
            }
            return null;
        });

    /// <summary>How the failure reason of a job put back in the queue by its own retries begins; the rest is why the attempt failed.</summary>
    public const string RetryingPrefix = "attempt failed, retrying: ";

    /// <summary>Adds the mark of a later attempt's first log line to the job (<see cref="JobRow.AttemptMarks"/>).</summary>
    public Task AddAttemptMarkAsync(long jobId, string mark) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE jobs SET attempt_marks = CASE WHEN attempt_marks IS NULL THEN @mark ELSE attempt_marks || ' ' || @mark END WHERE id = @jobId",
            new { jobId, mark }, tx));

    /// <summary>Whether the pool has a queued job that some agent of it may claim (labels aside).</summary>
    public Task<bool> AnyClaimableAsync(string pool) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM (SELECT 1 {Claimable} LIMIT 1) q",
            new { pool, buildPool = Core.Pipelines.JobDefinition.DefaultPool }) > 0);

    /// <summary>
    /// Whether the claimed job's run and stage are running already. A claim only moves a queued job to running, so then the
    /// run's evaluation would change nothing; skipping it spares the claim the run's row lock (<see cref="RunProgress"/>),
    /// which made every claim of one run wait for the one before it. The first claim of a stage still evaluates.
    /// </summary>
    private static async Task<bool> RunAndStageRunningAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, JobRow job) =>
        await c.ExecuteScalarAsync<long>(RunAndStageRunning,
            new { runId = job.RunId, stage = job.StageIdx, running = ExecutionStatus.Running.ToWire() }, tx) == 1;

    /// <summary>
    /// The first claims of a stage: the run's evaluation moves stage and run to running. When a crowd of agents claims a new
    /// run's jobs at once, each first saw them queued and queued for the run's lock; whoever gets it after the first finds
    /// them running and skips the evaluation (reading the run's stages and jobs under the lock), so the queue moves fast
    /// (issue 15: most of the run lock's waiting in bench/scale, and more with two nodes).
    /// </summary>
    private static async Task StartRunAndStageAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, JobRow job, long now)
    {
        await RunProgress.LockAsync(c, tx, job.RunId);
        if (SqlDialects.Of(c) == SqlDialect.Postgres && await RunAndStageRunningAsync(c, tx, job)) return;
        await RunProgress.ApplyAsync(c, tx, job.RunId, now, locked: true);
    }

    private const string RunAndStageRunning =
        "SELECT COUNT(*) FROM runs r JOIN stages s ON s.run_id = r.id AND s.idx = @stage WHERE r.id = @runId AND r.status = @running AND s.status = @running";

    /// <summary>The job if <paramref name="leaseId"/> still holds it, else null (lease lost).</summary>
    public Task<JobRow?> GetLeasedAsync(long jobId, string leaseId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<JobRow>(
            $"SELECT {RunStore.JobOwnColumns} FROM jobs WHERE id = @jobId AND lease_id = @leaseId AND status = 'running'", new { jobId, leaseId }));

    /// <summary>Extends the lease; returns null if the lease is lost, else whether cancellation was requested.</summary>
    public Task<bool?> RenewAsync(long jobId, long agentId, string leaseId, TimeSpan lease, long now) =>
        db.WriteAsync<bool?>(async (c, tx) =>
        {
            var expires = now + (long)lease.TotalMilliseconds;
            var updated = await c.ExecuteAsync(
                "UPDATE jobs SET lease_expires_at = @expires WHERE id = @jobId AND agent_id = @agentId AND lease_id = @leaseId AND status = 'running'",
                new { jobId, agentId, leaseId, expires }, tx);
            if (updated == 0) return null;
            return await c.ExecuteScalarAsync<long>("SELECT cancel_requested FROM jobs WHERE id = @jobId", new { jobId }, tx) != 0;
        });

    public Task<bool> IsCancelRequestedAsync(long jobId) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long?>("SELECT cancel_requested FROM jobs WHERE id = @jobId", new { jobId }) == 1);

    /// <summary>
    /// Records an attempt's outcome. A failure with retries left puts the job back in the queue (attempt
    /// counted, log kept). Returns null when the lease was already lost (the report is ignored).
    /// </summary>
    public async Task<LeaseChange?> FinishAsync(long jobId, string leaseId, JobResult result, long now)
    {
        var (change, deferred) = await db.WriteAsync<(LeaseChange?, JobRow?)>(async (c, tx) =>
        {
            var job = await c.QuerySingleOrDefaultAsync<JobRow>(
                "SELECT id, run_id, stage_idx, name, status, pool, retries_left, cancel_requested, lease_id FROM jobs WHERE id = @jobId AND lease_id = @leaseId AND status = 'running'",
                new { jobId, leaseId }, tx);
            if (job is null) return (null, null);
            var outcome = job.CancelRequested != 0 && result.Outcome != ExecutionStatus.Succeeded ? ExecutionStatus.Cancelled : result.Outcome;
            if (!await EndAttemptAsync(c, tx, job, outcome, JobFailureKind.Step, result.ExitCode, result.FailureReason, now, result.TestSummaryJson, result.LogBytes, result.LogTruncated))
                return (null, null);
            var requeued = Requeued(job, outcome);
            // A re-queued job is not an end: the evaluation may send its stage (and run) back to queued, so it always runs.
            if (!requeued && await StageStillBusyAsync(c, tx, job)) return (new LeaseChange([], [jobId]), job);
            var pools = await RunProgress.ApplyAsync(c, tx, job.RunId, now);
            return (new LeaseChange(requeued ? [job.Pool, ..pools] : pools, [jobId]), null);
        });
        // PostgreSQL (READ COMMITTED): the jobs of the stage that looked unfinished may have been finishing at the same
        // moment, each seeing the other still running. Now that this finish is committed, whichever of those finishes
        // commits last sees the others here and evaluates the run (twice is harmless: the evaluation is idempotent under the
        // run's lock). Writers that evaluate in their own transaction (lease expiry, recovery) wait for this finish's key
        // share lock on the run (StageStillBusyAsync), so they see it. SQLite runs one write at a time, so what the
        // transaction saw was the whole truth. A failure here, or a node killed between the two steps, leaves the stage to
        // the lease sweeper (EvaluateFinishedStagesAsync): the finish itself is committed and is reported as done.
        if (change is not null && deferred is not null && db.Dialect == SqlDialect.Postgres)
        {
            try
            {
                if (await StageDoneAsync(deferred))
                    change = change with { Pools = [..change.Pools, ..await db.WriteAsync((c, tx) => RunProgress.ApplyAsync(c, tx, deferred.RunId, now))] };
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
            {
                log?.LogWarning("run {Run} was not evaluated after job {Job} finished ({Error}); the lease sweeper will", deferred.RunId, jobId, e.Message);
            }
        }
        return change;
    }

    /// <summary>The statuses a job has not finished in, as an SQL list; derived from the one rule, <see cref="StatusNames.IsFinal"/>.</summary>
    private static readonly string Unfinished =
        "(" + string.Join(", ", Enum.GetValues<ExecutionStatus>().Where(s => !s.IsFinal()).Select(s => $"'{s.ToWire()}'")) + ")";

    /// <summary>
    /// Whether, as this transaction sees it, the finished job's run and stage are running and the stage still has an
    /// unfinished job: then evaluating the run would change nothing (a stage ends only with its last job), and the finish
    /// spares itself the run's row lock (<see cref="RunProgress"/>), which made the finishes of a 50-job stage wait in line
    /// (issue 15: most of PostgreSQL's waiting in bench/scale, and more with every node).
    /// </summary>
    private static async Task<bool> StageStillBusyAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, JobRow job)
    {
        // PostgreSQL: a key share lock on the run, taken before looking. Finishes share it (they do not wait for each other);
        // an evaluation elsewhere (FOR UPDATE: lease expiry, recovery, a cancel) waits for this transaction, and this one for
        // it, so neither can decide from a view that misses the other's job.
        if (SqlDialects.Of(c) == SqlDialect.Postgres)
            await c.ExecuteAsync("SELECT id FROM runs WHERE id = @runId FOR KEY SHARE", new { runId = job.RunId }, tx);
        return await c.ExecuteScalarAsync<long>(
            $"{RunAndStageRunning} AND EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = @runId AND j.stage_idx = @stage AND j.status IN {Unfinished})",
            new { runId = job.RunId, stage = job.StageIdx, running = ExecutionStatus.Running.ToWire() }, tx) == 1;
    }

    /// <summary>Whether every job of the finished job's stage has finished, as committed now.</summary>
    private Task<bool> StageDoneAsync(JobRow job) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>(
            $"SELECT COUNT(*) FROM jobs WHERE run_id = @runId AND stage_idx = @stage AND status IN {Unfinished}",
            new { runId = job.RunId, stage = job.StageIdx }) == 0);

    /// <summary>
    /// Evaluates the runs whose running stage has no unfinished job left: a finish whose second step never ran (its node
    /// was killed between the two, see <see cref="FinishAsync"/>). Normally finds nothing; an index holds only running stages.
    /// </summary>
    public async Task<LeaseChange> EvaluateFinishedStagesAsync(long now)
    {
        var runs = (await db.ReadAsync(c => c.QueryAsync<long>(
            "SELECT DISTINCT s.run_id FROM stages s JOIN runs r ON r.id = s.run_id WHERE s.status = 'running' AND r.status = 'running' " +
            $"AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = s.run_id AND j.stage_idx = s.idx AND j.status IN {Unfinished}) ORDER BY s.run_id"))).ToList();
        var pools = new List<string>();
        var moved = new List<long>();
        foreach (var runId in runs)
        {
            // One transaction per run: one that cannot be evaluated does not hold back the others.
            try
            {
                pools.AddRange(await db.WriteAsync((c, tx) => RunProgress.ApplyAsync(c, tx, runId, now)));
                moved.Add(runId);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
            {
                log?.LogWarning("run {Run} has a finished stage that could not be evaluated: {Error}", runId, e.Message);
            }
        }
        return new LeaseChange(pools.Distinct().ToList(), [], moved);
    }

    /// <summary>
    /// Fails a just-claimed job that cannot be handed out (e.g. it lists a secret the project does not have)
    /// without retrying it: another attempt would fail the same way. Null when the lease was lost meanwhile.
    /// </summary>
    public Task<LeaseChange?> FailWithoutRetryAsync(long jobId, string leaseId, string reason, long logBytes, long now) =>
        db.WriteAsync<LeaseChange?>(async (c, tx) =>
        {
            var job = await c.QuerySingleOrDefaultAsync<JobRow>(
                "SELECT id, run_id, name, status, pool, retries_left, cancel_requested, lease_id FROM jobs WHERE id = @jobId AND lease_id = @leaseId AND status = 'running'",
                new { jobId, leaseId }, tx);
            if (job is null) return null;
            job.RetriesLeft = 0;
            var outcome = job.CancelRequested != 0 ? ExecutionStatus.Cancelled : ExecutionStatus.Failed;
            if (!await EndAttemptAsync(c, tx, job, outcome, JobFailureKind.Setup, null, reason, now, null, logBytes, null)) return null;
            return new LeaseChange(await RunProgress.ApplyAsync(c, tx, job.RunId, now), [jobId]);
        });

    /// <summary>
    /// Resolves every running job whose lease ran out: cancelled if that was asked, re-queued if it has
    /// retries left, else failed as "agent lost". Never leaves a job running without a live lease.
    /// </summary>
    public Task<LeaseChange> ExpireAsync(long now) => ResolveAsync(
        "SELECT id, run_id, name, status, pool, retries_left, cancel_requested, lease_id FROM jobs WHERE status = 'running' AND lease_expires_at < @now",
        new { now }, AgentLost + ": its lease expired without renewal", now);

    /// <summary>At start-up: the embedded agent died with the previous server process, so its jobs cannot finish (failed as agent lost).</summary>

    public Task<LeaseChange> ResolveJobsOfAgentAsync(long agentId, string reason, long now) => ResolveAsync(
        "SELECT id, run_id, name, status, pool, retries_left, cancel_requested, lease_id FROM jobs WHERE status = 'running' AND agent_id = @agentId",
        new { agentId, now }, reason, now);

    private Task<LeaseChange> ResolveAsync(string select, object args, string reason, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            var pools = new List<string>();
            var jobs = (await c.QueryAsync<JobRow>(select, args, tx)).ToList();
            foreach (var job in jobs)
            {
                var outcome = job.CancelRequested != 0 ? ExecutionStatus.Cancelled : ExecutionStatus.Failed;
                if (!await EndAttemptAsync(c, tx, job, outcome, JobFailureKind.AgentLost, null, reason, now, null, null, null)) continue; // finished meanwhile
                if (Requeued(job, outcome)) pools.Add(job.Pool);
                pools.AddRange(await RunProgress.ApplyAsync(c, tx, job.RunId, now));
            }
            return new LeaseChange(pools.Distinct().ToList(), jobs.Select(j => j.Id).ToList());
        });

    private static bool Requeued(JobRow job, ExecutionStatus outcome) => outcome == ExecutionStatus.Failed && job.RetriesLeft > 0;

    /// <summary>
    /// Ends the attempt only if it still holds the lease it was read with; false if someone else ended it first.
    /// <paramref name="failure"/> is what a failure of this attempt means; a cancelled one is always <see cref="JobFailureKind.Cancelled"/>.
    /// </summary>
    private static async Task<bool> EndAttemptAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, JobRow job,
        ExecutionStatus outcome, JobFailureKind failure, int? exitCode, string? reason, long now, string? summary, long? logBytes, bool? truncated)
    {
        var kind = outcome switch { ExecutionStatus.Succeeded => null, ExecutionStatus.Cancelled => JobFailureKind.Cancelled.ToWire(), _ => failure.ToWire() };
        if (Requeued(job, outcome))
        {
            Transitions.EnsureJob(job.Name, ExecutionStatus.Running, ExecutionStatus.Queued);
            return 1 == await c.ExecuteAsync(
                "UPDATE jobs SET status = 'queued', retries_left = retries_left - 1, agent_id = NULL, lease_id = NULL, lease_expires_at = NULL, " +
                "queued_at = @now, started_at = NULL, exit_code = @exitCode, failure_reason = @reason, failure_kind = @kind, " +
                "log_bytes = COALESCE(@logBytes, log_bytes), log_truncated = COALESCE(@truncated, log_truncated) " +
                "WHERE id = @id AND status = 'running' AND lease_id = @leaseId",
                new { now, exitCode, reason = RetryingPrefix + reason, kind, logBytes, truncated = truncated is null ? (long?)null : truncated.Value ? 1 : 0, id = job.Id, leaseId = job.LeaseId }, tx);
        }
        Transitions.EnsureJob(job.Name, ExecutionStatus.Running, outcome);
        return 1 == await c.ExecuteAsync(
            "UPDATE jobs SET status = @status, lease_id = NULL, lease_expires_at = NULL, finished_at = @now, exit_code = @exitCode, " +
            "failure_reason = @reason, failure_kind = @kind, test_summary = COALESCE(@summary, test_summary), " +
            "log_bytes = COALESCE(@logBytes, log_bytes), log_truncated = COALESCE(@truncated, log_truncated) " +
            "WHERE id = @id AND status = 'running' AND lease_id = @leaseId",
            new { status = outcome.ToWire(), now, exitCode, reason = outcome == ExecutionStatus.Succeeded ? null : reason, kind, summary, logBytes,
                  truncated = truncated is null ? (long?)null : truncated.Value ? 1 : 0, id = job.Id, leaseId = job.LeaseId }, tx);
    }

    public Task StartAsync(long jobId, string leaseId, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE jobs SET started_at = @now WHERE id = @jobId AND lease_id = @leaseId", new { jobId, leaseId, now }, tx));
}
