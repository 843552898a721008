using System.Data.Common;
using Dapper;
using Slipway.Core.Runs;

namespace Slipway.Server.Runs;

/// <summary>
/// Applies <see cref="RunEvaluator"/>'s decision to the database inside the caller's transaction.
/// Called after every change to a run's jobs. Returns the pools that received newly queued jobs so the
/// caller can wake the agents waiting on them (after commit).
/// </summary>
public static class RunProgress
{
    public static async Task<IReadOnlyList<string>> ApplyAsync(DbConnection c, DbTransaction tx, long runId, long now, bool locked = false)
    {
        if (!locked) await LockAsync(c, tx, runId);
        var run = await c.QuerySingleAsync<RunRow>("SELECT id, status, started_at FROM runs WHERE id = @runId", new { runId }, tx);
        var stages = (await c.QueryAsync<StageRow>("SELECT id, idx, status, skipped_by_filter, started_at, finished_at FROM stages WHERE run_id = @runId", new { runId }, tx)).ToList();
        var jobs = (await c.QueryAsync<JobRow>("SELECT id, stage_idx, status, pool FROM jobs WHERE run_id = @runId", new { runId }, tx)).ToList();

        var decision = RunEvaluator.Evaluate(
            stages.Select(s => new StageState((int)s.Idx, StatusNames.Parse(s.Status), s.SkippedByFilter != 0)).ToList(),
            jobs.Select(j => new JobState(j.Id, (int)j.StageIdx, StatusNames.Parse(j.Status))).ToList());

        // One statement per job: a stage has few jobs, and "IN @list" is expanded differently by the two providers.
        foreach (var id in decision.JobsToQueue)
            await c.ExecuteAsync("UPDATE jobs SET status = 'queued', queued_at = @now WHERE id = @id AND status = 'pending'", new { id, now }, tx);
        foreach (var id in decision.JobsToSkip)
            await c.ExecuteAsync("UPDATE jobs SET status = 'skipped', finished_at = @now WHERE id = @id AND status = 'pending'", new { id, now }, tx);

        foreach (var stage in stages)
        {
            var status = decision.StageStatuses[(int)stage.Idx];
            if (status.ToWire() == stage.Status) continue;
            var started = stage.StartedAt ?? (status is ExecutionStatus.Running || status.IsFinal() && status != ExecutionStatus.Skipped ? now : null);
            var finished = status.IsFinal() ? now : (long?)null;
            await c.ExecuteAsync("UPDATE stages SET status = @status, started_at = @started, finished_at = @finished WHERE id = @id",
                new { status = status.ToWire(), started, finished, id = stage.Id }, tx);
        }

        var runStatus = decision.RunStatus;
        if (runStatus.ToWire() != run.Status)
        {
            var current = StatusNames.Parse(run.Status);
            Transitions.EnsureRun(runId, current, runStatus);
            var started = run.StartedAt ?? (runStatus != ExecutionStatus.Queued ? now : null);
            var finished = runStatus.IsFinal() ? now : (long?)null;
            await c.ExecuteAsync("UPDATE runs SET status = @status, started_at = @started, finished_at = @finished WHERE id = @runId",
                new { status = runStatus.ToWire(), started, finished, runId }, tx);
        }

        var queuedIds = decision.JobsToQueue.ToHashSet();
        return jobs.Where(j => queuedIds.Contains(j.Id)).Select(j => j.Pool).Distinct().ToList();
    }

    /// <summary>
    /// The run's row lock, held until the transaction ends; <see cref="ApplyAsync"/> takes it unless told it is held.
    /// Two jobs of one stage may finish at the same moment on PostgreSQL (READ COMMITTED): without this lock each
    /// transaction would see the other job still running and nobody would advance the run. SQLite has a single writer,
    /// so it needs no lock.
    /// </summary>
    public static async Task LockAsync(DbConnection c, DbTransaction tx, long runId)
    {
        if (SqlDialects.Of(c) == SqlDialect.Postgres)
            await c.ExecuteAsync("SELECT id FROM runs WHERE id = @runId FOR UPDATE", new { runId }, tx);
    }
}
