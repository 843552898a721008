using System.Text.Json;
using Dapper;
using Slipway.Core.Runs;

namespace Slipway.Server.Runs;

/// <summary>A run with everything shown about it.</summary>
public sealed record RunDetails(RunRow Run, IReadOnlyList<StageRow> Stages, IReadOnlyList<JobRow> Jobs, IReadOnlyList<ArtifactRow> Artifacts);

/// <summary>
/// What starts a run: the commit, why, and either a plan or the lint errors that stop it; <paramref name="Warnings"/>:
/// problems that do not stop it (a release setting in the file that the server ignores).
/// </summary>
public sealed record NewRun(long ProjectId, string Branch, string Commit, string? CommitMessage, string Trigger,
    RunPlan? Plan, IReadOnlyList<string> LintErrors, string? ReleaseTemplate = null, string? ReleaseTag = null, long? DeploymentId = null,
    IReadOnlyList<string>? Warnings = null, long? CheckId = null, bool BranchProtected = false);

/// <summary>
/// What a run is for: <c>ci</c> builds and tests a branch (numbered #1, #2, ... per project); <c>deployment</c> executes a
/// deployment; <c>check</c> runs a script live check (docs/live-checks.md) on its environment's pool.
/// </summary>
public static class RunKinds
{
    public const string Ci = "ci";
    public const string Deployment = "deployment";
    public const string Check = "check";
}

/// <summary>Runs, their stages and jobs: creation, reading, and the user-driven transitions (cancel, retry).</summary>
public sealed class RunStore(SqlDatabase db)
{
    private const string RunColumns =
        "r.id, r.project_id, p.name AS project_name, r.number, r.branch, r.commit_sha, r.commit_message, r.trigger, r.status, " +
        "r.failure_reason, r.lint_errors, r.warnings, r.created_at, r.started_at, r.finished_at, r.deployment_id, r.check_id, r.branch_protected, r.retried_at, " +
        "COALESCE((SELECT d.environment_id FROM deployments d WHERE d.id = r.deployment_id), (SELECT k.environment_id FROM live_checks k WHERE k.id = r.check_id)) AS environment_id, " +
        "(SELECT d.number FROM deployments d WHERE d.id = r.deployment_id) AS deployment_number";
    /// <summary>Builds and tests of branches only: not a deployment's run, not a live check's.</summary>
    private const string CiOnly = "r.deployment_id IS NULL AND r.check_id IS NULL";
    /// <summary>A job's own columns, unqualified (for RETURNING). Named, never *: see <see cref="Database.SqlDatabase.PoolSettings"/>.</summary>
    internal const string JobOwnColumns =
        "id, run_id, stage_idx, name, status, pool, labels, spec, retries_left, attempt, agent_id, lease_id, lease_expires_at, cancel_requested, " +
        "exit_code, failure_reason, failure_kind, test_summary, log_bytes, log_truncated, created_at, queued_at, started_at, finished_at, attempt_marks";

    /// <summary>A job's columns, <c>j</c> joined to its agent <c>a</c> (LEFT JOIN agents a ON a.id = j.agent_id): the same list, one place.</summary>
    private static readonly string JobColumns =
        string.Join(", ", JobOwnColumns.Split(", ").Select(column => "j." + column)) + ", a.name AS agent_name";

    /// <summary>Creates the run; returns its id and the pools that got queued jobs.</summary>
    public Task<(long RunId, IReadOnlyList<string> Pools)> CreateAsync(NewRun run, long now) =>
        db.WriteAsync<(long, IReadOnlyList<string>)>(async (c, tx) =>
        {
            // Only CI runs are numbered: the numbering is the project's build counter (release versions such as 1.0.{run}
            // use it), and a deployment's run is known by its deployment's number instead (a check's run by its check).
            long? number = run.DeploymentId is not null || run.CheckId is not null ? null : await c.ExecuteScalarAsync<long>(
                "UPDATE projects SET next_run_number = next_run_number + 1 WHERE id = @ProjectId RETURNING next_run_number - 1", run, tx);
            var failed = run.Plan is null;
            var runId = await c.ExecuteScalarAsync<long>(
                "INSERT INTO runs (project_id, number, branch, commit_sha, commit_message, trigger, status, failure_reason, lint_errors, warnings, created_at, started_at, finished_at, release_version, deployment_id, check_id, branch_protected) " +
                "VALUES (@projectId, @number, @branch, @commit, @message, @trigger, @status, @reason, @lint, @warnings, @now, @finishedAt, @finishedAt, @releaseVersion, @deploymentId, @checkId, @branchProtected) RETURNING id",
                new
                {
                    projectId = run.ProjectId, number, branch = run.Branch, deploymentId = run.DeploymentId, checkId = run.CheckId, commit = run.Commit, message = run.CommitMessage,
                    trigger = run.Trigger, branchProtected = run.BranchProtected ? 1 : 0,
                    status = failed ? "failed" : "queued",
                    reason = failed ? "the pipeline file is invalid" : null,
                    lint = run.LintErrors.Count > 0 ? JsonSerializer.Serialize(run.LintErrors) : null,
                    warnings = run.Warnings is { Count: > 0 } ? JsonSerializer.Serialize(run.Warnings) : null,
                    now, finishedAt = failed ? now : (long?)null,
                    releaseVersion = failed || run.ReleaseTemplate is null ? null : Core.Releases.VersionTemplate.Expand(run.ReleaseTemplate, number!.Value,
                        run.ReleaseTag is null ? null : Core.Releases.VersionTemplate.VersionOfTag(run.ReleaseTag)),
                }, tx);
            if (run.Plan is null) return (runId, []);

            foreach (var stage in run.Plan.Stages)
            {
                await c.ExecuteAsync("INSERT INTO stages (run_id, idx, name, status, skipped_by_filter) VALUES (@runId, @idx, @name, 'pending', @skipped)",
                    new { runId, idx = stage.Index, name = stage.Name, skipped = stage.Skipped ? 1 : 0 }, tx);
                foreach (var job in stage.Jobs)
                {
                    var spec = new JobSpec(job.Script, job.Env, job.Artifacts, job.Reports, (int)job.Timeout.TotalSeconds, job.Secrets, job.Rollout, job.Metrics);
                    await c.ExecuteAsync(
                        "INSERT INTO jobs (run_id, stage_idx, name, status, pool, labels, spec, retries_left, created_at) " +
                        "VALUES (@runId, @idx, @name, 'pending', @pool, @labels, @spec, @retry, @now)",
                        new { runId, idx = stage.Index, name = job.Name, pool = job.Pool, labels = string.Join(',', job.Labels.Order()), spec = spec.ToJson(), retry = job.Retry, now }, tx);
                }
            }
            var pools = await RunProgress.ApplyAsync(c, tx, runId, now);
            return (runId, pools);
        });

    public Task<RunDetails?> GetAsync(long runId) => db.ReadAsync<RunDetails?>(async c =>
    {
        var run = await c.QuerySingleOrDefaultAsync<RunRow>(
            $"SELECT {RunColumns} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = @runId", new { runId });
        if (run is null) return null;
        var stages = (await c.QueryAsync<StageRow>("SELECT id, run_id, idx, name, status, skipped_by_filter, started_at, finished_at FROM stages WHERE run_id = @runId ORDER BY idx", new { runId })).ToList();
        var jobs = (await c.QueryAsync<JobRow>(
            $"SELECT {JobColumns} FROM jobs j LEFT JOIN agents a ON a.id = j.agent_id WHERE j.run_id = @runId ORDER BY j.stage_idx, j.id", new { runId })).ToList();
        var artifacts = (await c.QueryAsync<ArtifactRow>(
            "SELECT x.id, x.run_id, x.job_id, j.name AS job_name, x.stage_idx, x.path, x.sha256, x.size FROM artifacts x JOIN jobs j ON j.id = x.job_id " +
            "WHERE x.run_id = @runId ORDER BY x.stage_idx, j.name, x.path", new { runId })).ToList();
        return new RunDetails(run, stages, jobs, artifacts);
    });

    /// <summary>The run alone (no stages, jobs or artifacts): what the agent protocol needs on its hot path.</summary>
    public Task<RunRow?> GetRunRowAsync(long runId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<RunRow>(
            $"SELECT {RunColumns} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = @runId", new { runId }));

    /// <summary>The deployment a run carries out; null for a CI run or no such run (asked at every job's finish: one column, no join).</summary>
    public Task<long?> DeploymentOfRunAsync(long runId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<long?>("SELECT deployment_id FROM runs WHERE id = @runId", new { runId }));

    /// <summary>The id of a project's CI run #<paramref name="number"/> (the number the web UI, releases and work items show); null for none.</summary>
    public Task<long?> IdOfNumberAsync(long projectId, long number) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<long?>("SELECT id FROM runs WHERE project_id = @projectId AND number = @number", new { projectId, number }));

    /// <summary>The project a run belongs to (the scope its endpoints are authorized on); null for no such run.</summary>
    public Task<string?> ProjectNameOfRunAsync(long runId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<string?>(
            "SELECT p.name FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = @runId", new { runId }));

    /// <summary>A project's runs, newest first: every kind, or only CI runs (<see cref="RunKinds.Ci"/>) or deployment runs.</summary>
    public async Task<IReadOnlyList<RunRow>> ListAsync(long projectId, int limit, string? kind = null)
    {
        var only = kind switch
        {
            null => "",
            RunKinds.Ci => $" AND {CiOnly}",
            RunKinds.Deployment => " AND r.deployment_id IS NOT NULL",
            RunKinds.Check => " AND r.check_id IS NOT NULL",
            _ => throw new ArgumentException($"kind is {RunKinds.Ci}, {RunKinds.Deployment} or {RunKinds.Check}, not '{kind}'"),
        };
        return (await db.ReadAsync(c => c.QueryAsync<RunRow>(
            $"SELECT {RunColumns} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.project_id = @projectId{only} ORDER BY r.id DESC LIMIT @limit",
            new { projectId, limit }))).ToList();
    }

    /// <summary>
    /// The newest CI run of each of the projects (the home page), in one query: one short backward walk of runs_by_project
    /// per project instead of a query per project.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, RunRow>> LatestCiAsync(IReadOnlyCollection<long> projectIds) =>
        (await db.ReadAsync(c => c.QueryAsync<RunRow>(
            $"SELECT {RunColumns} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id IN (SELECT (SELECT MAX(r.id) FROM runs r " +
            $"WHERE r.project_id = x.id AND {CiOnly}) FROM projects x WHERE x.id IN {SqlIds.List(projectIds)})")))
        .ToDictionary(r => r.ProjectId);

    /// <summary>The runs of one commit of a project, newest first (a change request's head pipeline).</summary>
    public async Task<IReadOnlyList<RunRow>> ForCommitAsync(long projectId, string commit, int limit = 20) =>
        (await db.ReadAsync(c => c.QueryAsync<RunRow>(
            $"SELECT {RunColumns} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.project_id = @projectId AND r.commit_sha = @commit AND {CiOnly} " +
            "ORDER BY r.id DESC LIMIT @limit", new { projectId, commit, limit }))).ToList();

    /// <summary>The newest run of each branch of a project.</summary>
    public async Task<IReadOnlyList<RunRow>> LatestPerBranchAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<RunRow>(
            $"SELECT {RunColumns} FROM runs r JOIN projects p ON p.id = r.project_id " +
            "WHERE r.id IN (SELECT MAX(id) FROM runs WHERE project_id = @projectId AND deployment_id IS NULL AND check_id IS NULL GROUP BY branch)", new { projectId }))).ToList();

    public Task<JobRow?> FindJobAsync(long runId, string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<JobRow>(
            $"SELECT {JobColumns} FROM jobs j LEFT JOIN agents a ON a.id = j.agent_id WHERE j.run_id = @runId AND j.name = @name", new { runId, name }));

    /// <summary>
    /// Applies a cancel judged on the run being <paramref name="expected"/> (<see cref="RunService.CancelAsync"/>): pending and
    /// queued jobs stop at once; running jobs are asked to stop (their agent kills the process tree and reports). Returns the
    /// ids of the running jobs whose agents must be told, or null when the run is no longer <paramref name="expected"/>.
    /// </summary>
    public Task<IReadOnlyList<long>?> CancelAsync(long runId, ExecutionStatus expected, long now) =>
        db.WriteAsync<IReadOnlyList<long>?>(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<string>("SELECT status FROM runs WHERE id = @runId", new { runId }, tx) != expected.ToWire()) return null;
            await c.ExecuteAsync("UPDATE jobs SET status = 'cancelled', finished_at = @now, failure_reason = 'cancelled by a user', failure_kind = 'cancelled' " +
                                 "WHERE run_id = @runId AND status IN ('pending', 'queued')", new { runId, now }, tx);
            var running = (await c.QueryAsync<long>("SELECT id FROM jobs WHERE run_id = @runId AND status = 'running'", new { runId }, tx)).ToList();
            await c.ExecuteAsync("UPDATE jobs SET cancel_requested = 1 WHERE run_id = @runId AND status = 'running'", new { runId }, tx);
            await RunProgress.ApplyAsync(c, tx, runId, now);
            return running;
        });

    /// <summary>
    /// Applies a retry planned by <see cref="RunRetry.Plan"/> on the run being <paramref name="expectedStatus"/>: the planned jobs
    /// go back to pending (then queued by progress), the skipped ones after the first retried stage wait again. Returns the pools
    /// to wake, or null when the run or a planned job changed meanwhile (nothing is written then).
    /// </summary>
    public async Task<IReadOnlyList<string>?> RetryAsync(long runId, string expectedStatus, RetryPlan plan, long now)
    {
        try { return await RequeueAsync(runId, expectedStatus, plan, now); }
        catch (RetryRaceException) { return null; }
    }

    private Task<IReadOnlyList<string>?> RequeueAsync(long runId, string expectedStatus, RetryPlan plan, long now) =>
        db.WriteAsync<IReadOnlyList<string>?>(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<string>("SELECT status FROM runs WHERE id = @runId", new { runId }, tx) != expectedStatus) return null;
            foreach (var job in plan.Again)
            {
                var changed = await c.ExecuteAsync(
                    "UPDATE jobs SET status = 'pending', agent_id = NULL, lease_id = NULL, lease_expires_at = NULL, cancel_requested = 0, " +
                    "exit_code = NULL, failure_reason = NULL, failure_kind = NULL, test_summary = NULL, queued_at = NULL, started_at = NULL, finished_at = NULL " +
                    "WHERE id = @id AND status = @status",
                    new { id = job.Id, status = job.Status.ToWire() }, tx);
                if (changed != 1) throw new RetryRaceException(); // rolls the transaction back
            }
            await c.ExecuteAsync("UPDATE jobs SET status = 'pending', finished_at = NULL WHERE run_id = @runId AND status = 'skipped' AND stage_idx > @firstStage",
                new { runId, firstStage = (long)plan.FirstStage }, tx);
            // The stages that run again (those with a job pending now) are timed afresh, else a stage's duration would include
            // the wait before the retry; a stage whose jobs all stand keeps its times. The run keeps its first start and notes the retry.
            await c.ExecuteAsync("UPDATE stages SET started_at = NULL, finished_at = NULL WHERE run_id = @runId AND skipped_by_filter = 0 " +
                "AND idx IN (SELECT DISTINCT stage_idx FROM jobs WHERE run_id = @runId AND status = 'pending')", new { runId }, tx);
            await c.ExecuteAsync("UPDATE runs SET status = 'queued', finished_at = NULL, failure_reason = NULL, retried_at = @now WHERE id = @runId",
                new { runId, now }, tx);
            return await RunProgress.ApplyAsync(c, tx, runId, now);
        });

    /// <summary>A planned job changed state between the plan and the write: the whole retry is rolled back and judged again.</summary>
    private sealed class RetryRaceException() : Exception("a job of the run changed meanwhile");
}
