using System.Data.Common;
using System.Text.Json;
using Dapper;
using Slipway.Core.Deployments;

namespace Slipway.Server.Deployments;

public sealed class DeploymentRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string ProjectName { get; set; } = "";
    public long Number { get; set; }
    public long EnvironmentId { get; set; }
    public string Environment { get; set; } = "";
    public long ReleaseId { get; set; }
    public string Version { get; set; } = "";
    public string CommitSha { get; set; } = "";
    public long? PreviousReleaseId { get; set; }
    public string? PreviousVersion { get; set; }
    public string Kind { get; set; } = "";
    public string State { get; set; } = "";
    public string Initiator { get; set; } = "";
    public string? EmergencyReason { get; set; }
    /// <summary>The id of the failed deployment an automatic rollback answers (stored), and its number in the project (shown).</summary>
    public long? RollbackOf { get; set; }
    public long? RollbackOfNumber { get; set; }
    public long RequestedAt { get; set; }
    public long? QueuedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
    public string? Outcome { get; set; }
    public long? RunId { get; set; }
    /// <summary>The inconclusive gates holding it for an approver's decision (awaiting approval), or null.</summary>
    public string? GateHold { get; set; }

    public DeploymentState StateValue => DeploymentTransitions.Parse(State);
    public string Subject => $"deployment #{Number} ({Version} to {Environment})";
}

public sealed class DeploymentApprovalRow
{
    public long DeploymentId { get; set; }
    public string Approver { get; set; } = "";
    public string Verdict { get; set; } = "";
    public string Comment { get; set; } = "";
    public long At { get; set; }
    /// <summary>The environment's approver role when this approval was given (null: none was required).</summary>
    public string? ApproverRole { get; set; }
}

/// <summary>A deployment to write.</summary>
/// <param name="RefuseOnItsWay">Refuse it (<see cref="OnItsWayException"/>) while a deployment of the same release to the same
/// environment awaits approval, is queued or runs: checked in the same transaction as the insert.</param>
public sealed record NewDeployment(long ProjectId, long EnvironmentId, long ReleaseId, long? PreviousReleaseId, string Kind, DeploymentState State,
    string Initiator, string? EmergencyReason, long? RollbackOf, long Now, string? GateHold = null, bool RefuseOnItsWay = false);

/// <summary>A deployment of the same release to the same environment is already on its way: <see cref="Pending"/>.</summary>
public sealed class OnItsWayException(DeploymentRow pending) : Exception($"deployment #{pending.Number} is on its way")
{
    public DeploymentRow Pending { get; } = pending;
}

/// <summary>
/// Deployments and their approvals. Every state change is a conditional update on the expected state; starting one
/// also relies on the unique index of running deployments per environment, so two can never run at once. Thread-safe.
/// </summary>
public sealed class DeploymentStore(SqlDatabase db)
{
    private const string Select =
        "SELECT d.id, d.project_id, p.name AS project_name, d.number, d.environment_id, e.name AS environment, d.release_id, r.version, r.commit_sha, " +
        "d.previous_release_id, pr.version AS previous_version, d.kind, d.state, d.initiator, d.emergency_reason, d.rollback_of, ro.number AS rollback_of_number, d.requested_at, " +
        "d.queued_at, d.started_at, d.finished_at, d.outcome, d.run_id, d.gate_hold " +
        "FROM deployments d JOIN projects p ON p.id = d.project_id JOIN environments e ON e.id = d.environment_id JOIN releases r ON r.id = d.release_id " +
        "LEFT JOIN releases pr ON pr.id = d.previous_release_id LEFT JOIN deployments ro ON ro.id = d.rollback_of";

    public Task<DeploymentRow> CreateAsync(NewDeployment d) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (d.RefuseOnItsWay)
            {
                // Two requests at once for one release to one environment: checked and inserted in one transaction, serialised per
                // environment (an advisory lock on PostgreSQL, every node; SQLite's writes are serial), so one goes through.
                await DatabaseLocks.InTransactionAsync(db, c, tx, $"deployment-request:{d.EnvironmentId}");
                var pending = await c.QueryFirstOrDefaultAsync<DeploymentRow>(
                    $"{Select} WHERE d.environment_id = @EnvironmentId AND d.release_id = @ReleaseId AND d.state IN ('awaiting_approval', 'queued', 'running') ORDER BY d.id",
                    new { d.EnvironmentId, d.ReleaseId }, tx);
                if (pending is not null) throw new OnItsWayException(pending);
            }
            var number = await c.ExecuteScalarAsync<long>(
                "UPDATE projects SET next_deployment_number = next_deployment_number + 1 WHERE id = @ProjectId RETURNING next_deployment_number - 1", new { d.ProjectId }, tx);
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO deployments (project_id, number, environment_id, release_id, previous_release_id, kind, state, initiator, emergency_reason, rollback_of, requested_at, queued_at, gate_hold) " +
                "VALUES (@ProjectId, @number, @EnvironmentId, @ReleaseId, @PreviousReleaseId, @Kind, @state, @Initiator, @EmergencyReason, @RollbackOf, @Now, @queuedAt, @GateHold) RETURNING id",
                new { d.ProjectId, number, d.EnvironmentId, d.ReleaseId, d.PreviousReleaseId, d.Kind, state = d.State.Name(), d.Initiator, d.EmergencyReason, d.GateHold,
                      d.RollbackOf, d.Now, queuedAt = d.State == DeploymentState.Queued ? d.Now : (long?)null }, tx);
            return await c.QuerySingleAsync<DeploymentRow>($"{Select} WHERE d.id = @id", new { id }, tx);
        });

    public Task<DeploymentRow?> FindAsync(long projectId, long number) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<DeploymentRow>($"{Select} WHERE d.project_id = @projectId AND d.number = @number", new { projectId, number }));

    public Task<DeploymentRow?> GetAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<DeploymentRow>($"{Select} WHERE d.id = @id", new { id }));

    /// <summary>A project's deployments, newest first, optionally of one environment and/or requested in [from, to).</summary>
    public async Task<IReadOnlyList<DeploymentRow>> ListAsync(long projectId, long? environmentId = null, long? from = null, long? to = null, int limit = 200)
    {
        // Conditions are added only for given filters: PostgreSQL cannot type a parameter that is only ever NULL.
        var where = "d.project_id = @projectId" + (environmentId is null ? "" : " AND d.environment_id = @environmentId")
                    + (from is null ? "" : " AND d.requested_at >= @from") + (to is null ? "" : " AND d.requested_at < @to");
        return (await db.ReadAsync(c => c.QueryAsync<DeploymentRow>($"{Select} WHERE {where} ORDER BY d.id DESC LIMIT @limit",
            new { projectId, environmentId, from, to, limit }))).ToList();
    }

    /// <summary>Deployments in the given states, oldest first (what the conductor works on).</summary>
    public Task<IReadOnlyList<DeploymentRow>> InStatesAsync(params DeploymentState[] states) => InStatesAsync(null, states);

    /// <summary>As above, of one project only (what waits or runs there; null: every project).</summary>
    public async Task<IReadOnlyList<DeploymentRow>> InStatesAsync(long? projectId, params DeploymentState[] states) =>
        (await db.ReadAsync(c => c.QueryAsync<DeploymentRow>(
            // The states are the enum's own names, so they are written into the SQL: Dapper expands "IN @list" on SQLite
            // but passes an array to Npgsql, which needs "= ANY(...)"; literals work on both.
            $"{Select} WHERE d.state IN ({string.Join(", ", states.Select(s => $"'{s.Name()}'"))})" +
            (projectId is null ? "" : " AND d.project_id = @projectId") + " ORDER BY d.id", new { projectId }))).ToList();

    /// <summary>The succeeded deployment of each environment of the project that finished last (what is where).</summary>
    public Task<IReadOnlyList<DeploymentRow>> CurrentAsync(long projectId) => CurrentAsync([projectId]);

    /// <summary>
    /// The succeeded deployment of each environment of the projects that finished last (what is where), one query for any
    /// number of projects. One index probe per environment (deployments_current, migration 0027): comparing every
    /// succeeded deployment with every other of its environment grew with the square of the history.
    /// </summary>
    public async Task<IReadOnlyList<DeploymentRow>> CurrentAsync(IReadOnlyCollection<long> projectIds) =>
        (await db.ReadAsync(c => c.QueryAsync<DeploymentRow>(
            // The last to finish, not the last requested: deployments approved out of order finish out of order. Ties go to
            // the larger id. A succeeded deployment always has its finished time; the condition keeps NULLs (which the two
            // dialects sort at opposite ends) out of the ordering.
            $"{Select} WHERE d.id IN (SELECT (SELECT n.id FROM deployments n WHERE n.environment_id = x.id AND n.state = 'succeeded' " +
            "AND n.finished_at IS NOT NULL ORDER BY n.finished_at DESC, n.id DESC LIMIT 1) " +
            $"FROM environments x WHERE x.project_id IN {SqlIds.List(projectIds)})"))).ToList();

    /// <summary>
    /// Per environment of the projects, the release a rollback returns to: that of the last succeeded deployment of a
    /// release older than the current one (as <see cref="DeploymentService.RollbackReleaseAsync"/> picks it).
    /// </summary>
    public async Task<IReadOnlyDictionary<long, string>> RollbackTargetsAsync(IReadOnlyCollection<long> projectIds) =>
        (await db.ReadAsync(c => c.QueryAsync<(long EnvironmentId, string Version)>(
            "SELECT d.environment_id, r.version FROM deployments d JOIN releases r ON r.id = d.release_id WHERE d.id IN (SELECT (" +
            "SELECT n.id FROM deployments n WHERE n.environment_id = x.id AND n.state = 'succeeded' AND n.finished_at IS NOT NULL AND n.release_id < (" +
            "SELECT k.release_id FROM deployments k WHERE k.environment_id = x.id AND k.state = 'succeeded' AND k.finished_at IS NOT NULL " +
            "ORDER BY k.finished_at DESC, k.id DESC LIMIT 1) ORDER BY n.finished_at DESC, n.id DESC LIMIT 1) " +
            $"FROM environments x WHERE x.project_id IN {SqlIds.List(projectIds)})")))
        .ToDictionary(r => r.EnvironmentId, r => r.Version);

    /// <summary>The newest deployment (last requested) of each environment of the projects, whatever its state.</summary>
    public async Task<IReadOnlyList<DeploymentRow>> LatestAsync(IReadOnlyCollection<long> projectIds) =>
        (await db.ReadAsync(c => c.QueryAsync<DeploymentRow>(
            $"{Select} WHERE d.id IN (SELECT (SELECT MAX(n.id) FROM deployments n WHERE n.environment_id = x.id) " +
            $"FROM environments x WHERE x.project_id IN {SqlIds.List(projectIds)})"))).ToList();

    /// <summary>How many deployments wait in each environment of the projects: (environment, state) → count, for the states queued and awaiting_approval.</summary>
    public async Task<IReadOnlyDictionary<(long EnvironmentId, string State), int>> WaitingCountsAsync(IReadOnlyCollection<long> projectIds) =>
        (await db.ReadAsync(c => c.QueryAsync<(long EnvironmentId, string State, long Count)>(
            "SELECT environment_id, state, COUNT(*) FROM deployments " +
            $"WHERE project_id IN {SqlIds.List(projectIds)} AND state IN ('queued', 'awaiting_approval') GROUP BY environment_id, state")))
        .ToDictionary(r => (r.EnvironmentId, r.State), r => (int)r.Count);

    /// <summary>Names of the environments where the release has a succeeded deployment.</summary>
    public async Task<IReadOnlySet<string>> SucceededOnAsync(long releaseId) =>
        (await db.ReadAsync(c => c.QueryAsync<string>(
            "SELECT DISTINCT e.name FROM deployments d JOIN environments e ON e.id = d.environment_id WHERE d.release_id = @releaseId AND d.state = 'succeeded'",
            new { releaseId }))).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Moves a deployment from <paramref name="from"/> to <paramref name="to"/> (an allowed transition, else it throws);
    /// false when it was no longer in <paramref name="from"/>. Stamps queued, started and finished times as it goes.
    /// <paramref name="onlyWithoutRun"/>: only while it has no run yet (a running deployment being started), so a run
    /// created meanwhile is never orphaned by this move.
    /// </summary>
    public Task<bool> MoveAsync(long id, DeploymentState from, DeploymentState to, long now, string? outcome = null, bool onlyWithoutRun = false)
    {
        DeploymentTransitions.Ensure($"deployment {id}", from, to);
        return db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE deployments SET state = @to, outcome = COALESCE(@outcome, outcome), " +
            "queued_at = COALESCE(@queuedAt, queued_at), started_at = COALESCE(@startedAt, started_at), finished_at = COALESCE(@finishedAt, finished_at) " +
            "WHERE id = @id AND state = @from" + (onlyWithoutRun ? " AND run_id IS NULL" : ""),
            new
            {
                id, from = from.Name(), to = to.Name(), outcome,
                queuedAt = to == DeploymentState.Queued ? now : (long?)null,
                startedAt = to == DeploymentState.Running ? now : (long?)null,
                finishedAt = to.IsFinal() ? now : (long?)null,
            }, tx) == 1);
    }

    public async Task<IReadOnlyList<DeploymentApprovalRow>> ApprovalsAsync(long deploymentId) =>
        (await db.ReadAsync(c => c.QueryAsync<DeploymentApprovalRow>(
            "SELECT deployment_id, approver, verdict, comment, at, approver_role FROM deployment_approvals WHERE deployment_id = @deploymentId ORDER BY id",
            new { deploymentId }))).ToList();

    /// <summary>The approvals of many deployments at once (lists and the evidence export), 500 deployments a query.</summary>
    public async Task<ILookup<long, DeploymentApprovalRow>> ApprovalsAsync(IReadOnlyCollection<long> deploymentIds)
    {
        var rows = new List<DeploymentApprovalRow>();
        // Ids are numbers, so they are written into the SQL (as InStatesAsync's states): one text for SQLite and Npgsql.
        foreach (var chunk in deploymentIds.Distinct().Chunk(500))
            rows.AddRange(await db.ReadAsync(c => c.QueryAsync<DeploymentApprovalRow>(
                "SELECT deployment_id, approver, verdict, comment, at, approver_role FROM deployment_approvals " +
                $"WHERE deployment_id IN ({string.Join(", ", chunk.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)))}) ORDER BY id")));
        return rows.ToLookup(a => a.DeploymentId);
    }

    /// <summary>
    /// The jobs (name, status, failure reason, pool) of many deployment runs, in stage order, 500 runs a query. Dapper fills the
    /// tuple by column position: the SELECT lists exactly its fields, in its order.
    /// </summary>
    public async Task<ILookup<long, (long RunId, string Name, string Status, string? FailureReason, string Pool)>> StepsAsync(IReadOnlyCollection<long> runIds)
    {
        var rows = new List<(long RunId, string Name, string Status, string? FailureReason, string Pool)>();
        foreach (var chunk in runIds.Distinct().Chunk(500))
            rows.AddRange(await db.ReadAsync(c => c.QueryAsync<(long RunId, string Name, string Status, string? FailureReason, string Pool)>(
                "SELECT run_id, name, status, failure_reason, pool FROM jobs " +
                $"WHERE run_id IN ({string.Join(", ", chunk.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)))}) ORDER BY run_id, stage_idx, id")));
        return rows.ToLookup(r => r.RunId);
    }

    /// <summary>Records an approval or rejection while the deployment awaits approval; false otherwise.</summary>
    /// <summary>
    /// Adds an approval or a rejection while the deployment awaits approval. An approver approves a deployment once: a
    /// second approval is not stored (<see cref="ApprovalWrite.AlreadyGiven"/>), also when two requests race (the unique
    /// index on approvals decides).
    /// </summary>
    public async Task<ApprovalWrite> AddApprovalAsync(long deploymentId, string approver, string verdict, string comment, string? approverRole, long now)
    {
        try
        {
            return await db.WriteAsync(async (c, tx) =>
            {
                var added = await c.ExecuteAsync(
                    "INSERT INTO deployment_approvals (deployment_id, approver, verdict, comment, at, approver_role) " +
                    "SELECT id, @approver, @verdict, @comment, @now, @approverRole FROM deployments WHERE id = @deploymentId AND state = 'awaiting_approval' " +
                    "AND NOT (@verdict = 'approve' AND EXISTS (SELECT 1 FROM deployment_approvals a WHERE a.deployment_id = @deploymentId " +
                    "AND a.approver = @approver AND a.verdict = 'approve'))",
                    new { deploymentId, approver, verdict, comment, now, approverRole }, tx);
                if (added == 1) return ApprovalWrite.Added;
                var given = await c.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM deployment_approvals WHERE deployment_id = @deploymentId AND approver = @approver AND verdict = 'approve'",
                    new { deploymentId, approver }, tx);
                return verdict == "approve" && given > 0 ? ApprovalWrite.AlreadyGiven : ApprovalWrite.NotAwaiting;
            });
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e)) { return ApprovalWrite.AlreadyGiven; }
    }

    /// <summary>
    /// Records the run executing a running deployment; false when the deployment is no longer running or has a run
    /// already (e.g. another node took it for orphaned meanwhile), and then the caller must not let the run go on.
    /// </summary>
    public Task<bool> SetRunAsync(long deploymentId, long runId) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE deployments SET run_id = @runId WHERE id = @deploymentId AND state = 'running' AND run_id IS NULL", new { runId, deploymentId }, tx) == 1);

    /// <summary>
    /// Sets what a running deployment replaces: the release current on its environment when it started (not when it was
    /// requested: deployments that ran meanwhile changed it), or, for an automatic rollback, the failed release it undoes.
    /// SLIPWAY_PREVIOUS_RELEASE and the automatic rollback use it.
    /// </summary>
    public Task SetPreviousReleaseAsync(long deploymentId, long? releaseId) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE deployments SET previous_release_id = @releaseId WHERE id = @deploymentId AND state = 'running'",
            new { releaseId, deploymentId }, tx));

    /// <summary>The release last deployed successfully to the environment, or null.</summary>
    // A repair run (deployment repair N) is a second run of deployment N: one with N's deployment_id that is not N's own run.
    private const string ActiveRepairRuns =
        "FROM runs r JOIN deployments d ON d.id = r.deployment_id WHERE (d.run_id IS NULL OR r.id <> d.run_id) AND r.status IN ('pending', 'queued', 'running')";

    /// <summary>Environments where a repair run is under way: no deployment starts there meanwhile (the repair holds the lock in effect).</summary>
    public async Task<IReadOnlySet<long>> RepairingEnvironmentsAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<long>($"SELECT DISTINCT d.environment_id {ActiveRepairRuns}"))).ToHashSet();

    /// <summary>A deployment running in the environment, or a repair run under way there.</summary>
    public async Task<bool> EnvironmentBusyAsync(long environmentId) =>
        await db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            $"SELECT (SELECT COUNT(*) FROM deployments WHERE environment_id = @environmentId AND state = 'running') + " +
            $"(SELECT COUNT(*) {ActiveRepairRuns} AND d.environment_id = @environmentId)", new { environmentId })) > 0;

    /// <summary>The number of a deployment of the same environment that started after <paramref name="deploymentId"/> did, if any.</summary>
    public Task<long?> StartedAfterAsync(long environmentId, long deploymentId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<long?>(
            "SELECT number FROM deployments WHERE environment_id = @environmentId AND id <> @deploymentId AND started_at IS NOT NULL " +
            "AND started_at >= COALESCE((SELECT started_at FROM deployments WHERE id = @deploymentId), 0) ORDER BY started_at LIMIT 1",
            new { environmentId, deploymentId }));

    public Task<long?> CurrentReleaseAsync(long environmentId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<long?>(
            "SELECT release_id FROM deployments WHERE environment_id = @environmentId AND state = 'succeeded' ORDER BY finished_at DESC, id DESC LIMIT 1",
            new { environmentId }));

    /// <summary>Whether the environment has had a deployment, in any state, of this release or a newer one (auto-deploy asks once per release).</summary>
    public async Task<bool> HasDeploymentOfAsync(long environmentId, long releaseId) =>
        await db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM deployments WHERE environment_id = @environmentId AND release_id >= @releaseId", new { environmentId, releaseId })) > 0;

    /// <summary>
    /// The authors, mergers and contributors (who wrote or pushed a commit of it) of the project's change requests merged as
    /// one of <paramref name="commits"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> AuthorsAndMergersAsync(long projectId, IReadOnlyCollection<string> commits) =>
        commits.Count == 0 ? [] : (await db.ReadAsync(c => c.QueryAsync<(string Author, string? MergedBy, string MergeCommit, string? Contributors)>(
            // Filtered in memory rather than with "IN @list", which Dapper renders differently for SQLite and Npgsql.
            "SELECT author, merged_by, merge_commit, contributors FROM change_requests WHERE project_id = @projectId AND state = 'merged' AND merge_commit IS NOT NULL",
            new { projectId })))
            .Where(r => commits.Contains(r.MergeCommit))
            .SelectMany(r => new[] { r.Author, r.MergedBy }.Concat(r.Contributors is null ? [] : JsonSerializer.Deserialize<string[]>(r.Contributors) ?? []))
            .OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToList();
}

public enum ApprovalWrite
{
    Added,
    /// <summary>The deployment no longer awaits approval.</summary>
    NotAwaiting,
    /// <summary>This approver has approved it already; an approval counts once.</summary>
    AlreadyGiven,
}
