using Dapper;
using Slipway.Core.Deployments.Rollout;

namespace Slipway.Server.Targets;

public sealed class TargetRow
{
    public long Id { get; set; }
    public long EnvironmentId { get; set; }
    public string Name { get; set; } = "";
    public string Host { get; set; } = "";
    public int SshPort { get; set; }
    public string SshUser { get; set; } = "";
    public string Roles { get; set; } = "";
    public string? BalancerServer { get; set; }
    public string? HostKey { get; set; }
    public bool Disabled { get; set; }
    public string? NodeAgent { get; set; }
    public long UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";

    public IReadOnlyList<string> RoleList => Roles.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public DeploymentTarget ToTarget() => new(Name, Host, SshPort, SshUser, RoleList, BalancerServer, HostKey, Disabled, NodeAgent);
}

public sealed class BalancerRow
{
    public long Id { get; set; }
    public long EnvironmentId { get; set; }
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Address { get; set; } = "";
    public int MinHealthy { get; set; }
    public int DrainTimeoutSeconds { get; set; }
    public string? DrainCommand { get; set; }
    public string? EnableCommand { get; set; }
    public string? StatusCommand { get; set; }
    public long UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
}

/// <summary>A script balancer's commands (all three null for haproxy).</summary>
public sealed record BalancerCommands(string? Drain, string? Enable, string? Status);

public sealed class TargetResultRow
{
    public long DeploymentId { get; set; }
    public string Target { get; set; } = "";
    public int Batch { get; set; }
    public string State { get; set; } = "";
    public string? BalancerState { get; set; }
    public string? Step { get; set; }
    public string? Reason { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
    public string? Decision { get; set; }
    public string? DecidedBy { get; set; }
}

/// <summary>Where a target stands after the deployments that touched it: the last result and the release of the last success.</summary>
public sealed record TargetStanding(string Target, string? CurrentRelease, string? LastState, string? LastReason, long? LastDeployment);

/// <summary>Targets, load balancers and per-target deployment results, in the database.</summary>
public sealed class TargetStore(SqlDatabase db)
{
    private const string TargetColumns = "id, environment_id, name, host, ssh_port, ssh_user, roles, balancer_server, host_key, disabled, node_agent, updated_at, updated_by";

    public async Task<IReadOnlyList<TargetRow>> ListAsync(long environmentId) =>
        (await db.ReadAsync(c => c.QueryAsync<TargetRow>($"SELECT {TargetColumns} FROM deployment_targets WHERE environment_id = @environmentId",
            new { environmentId }))).OrderBy(t => t.Name, NaturalOrder.Instance).ToList();

    public Task<TargetRow?> FindAsync(long environmentId, string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<TargetRow?>($"SELECT {TargetColumns} FROM deployment_targets WHERE environment_id = @environmentId AND name = @name",
            new { environmentId, name }));

    /// <summary>A target by project, environment and name (a node agent's --target).</summary>
    public Task<TargetRow?> FindByPathAsync(string project, string environment, string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<TargetRow?>(
            $"SELECT {string.Join(", ", TargetColumns.Split(", ").Select(col => "t." + col))} FROM deployment_targets t " +
            "JOIN environments e ON e.id = t.environment_id JOIN projects p ON p.id = e.project_id " +
            "WHERE p.name = @project AND e.name = @environment AND t.name = @name", new { project, environment, name }));

    /// <summary>Inserts (false when the name is taken) or updates (false when it does not exist).</summary>
    public Task<bool> SaveAsync(long environmentId, DeploymentTarget t, bool create, string by, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            var args = new { environmentId, t.Name, t.Host, t.SshPort, t.SshUser, roles = string.Join(' ', t.Roles), t.BalancerServer, hostKey = t.HostKeyFingerprint,
                             t.Disabled, t.NodeAgent, now, by };
            if (create)
                return await c.ExecuteAsync("INSERT INTO deployment_targets (environment_id, name, host, ssh_port, ssh_user, roles, balancer_server, host_key, disabled, node_agent, updated_at, updated_by) " +
                                            "VALUES (@environmentId, @Name, @Host, @SshPort, @SshUser, @roles, @BalancerServer, @hostKey, @Disabled, @NodeAgent, @now, @by) ON CONFLICT (environment_id, name) DO NOTHING",
                    args, tx) == 1;
            return await c.ExecuteAsync("UPDATE deployment_targets SET host = @Host, ssh_port = @SshPort, ssh_user = @SshUser, roles = @roles, balancer_server = @BalancerServer, " +
                                        "host_key = @hostKey, disabled = @Disabled, node_agent = @NodeAgent, updated_at = @now, updated_by = @by WHERE environment_id = @environmentId AND name = @Name", args, tx) == 1;
        });

    public Task<bool> RemoveAsync(long environmentId, string name) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("DELETE FROM deployment_targets WHERE environment_id = @environmentId AND name = @name",
            new { environmentId, name }, tx) == 1);

    public async Task<IReadOnlyList<BalancerRow>> BalancersAsync(long environmentId) =>
        (await db.ReadAsync(c => c.QueryAsync<BalancerRow>(
            "SELECT id, environment_id, name, kind, address, min_healthy, drain_timeout_seconds, drain_command, enable_command, status_command, " +
            "updated_at, updated_by FROM load_balancers " +
            "WHERE environment_id = @environmentId ORDER BY name", new { environmentId }))).ToList();

    public Task SaveBalancerAsync(long environmentId, string name, string kind, string address, int minHealthy, int drainTimeoutSeconds,
        BalancerCommands commands, string by, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO load_balancers (environment_id, name, kind, address, min_healthy, drain_timeout_seconds, drain_command, enable_command, status_command, " +
            "updated_at, updated_by) VALUES (@environmentId, @name, @kind, @address, @minHealthy, @drainTimeoutSeconds, @drainCommand, @enableCommand, " +
            "@statusCommand, @now, @by) " +
            "ON CONFLICT (environment_id, name) DO UPDATE SET kind = @kind, address = @address, min_healthy = @minHealthy, " +
            "drain_timeout_seconds = @drainTimeoutSeconds, drain_command = @drainCommand, enable_command = @enableCommand, status_command = @statusCommand, " +
            "updated_at = @now, updated_by = @by",
            new { environmentId, name, kind, address, minHealthy, drainTimeoutSeconds, drainCommand = commands.Drain, enableCommand = commands.Enable,
                  statusCommand = commands.Status, now, by }, tx));

    public Task<bool> RemoveBalancerAsync(long environmentId, string name) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("DELETE FROM load_balancers WHERE environment_id = @environmentId AND name = @name",
            new { environmentId, name }, tx) == 1);

    // --- per-target results of a deployment ---

    public async Task<IReadOnlyList<TargetResultRow>> ResultsAsync(long deploymentId) =>
        (await db.ReadAsync(c => c.QueryAsync<TargetResultRow>(
            "SELECT deployment_id, target, batch, state, balancer_state, step, reason, started_at, finished_at, decision, decided_by FROM deployment_target_results " +
            "WHERE deployment_id = @deploymentId", new { deploymentId }))).OrderBy(r => r.Batch).ThenBy(r => r.Target, NaturalOrder.Instance).ToList();

    /// <summary>Records the plan: every target pending in its batch (once; a second call changes nothing).</summary>
    public Task PlanAsync(long deploymentId, IEnumerable<(string Target, int Batch)> plan) =>
        db.WriteAsync(async (c, tx) =>
        {
            foreach (var (target, batch) in plan)
                await c.ExecuteAsync("INSERT INTO deployment_target_results (deployment_id, target, batch, state) VALUES (@deploymentId, @target, @batch, 'pending') " +
                                     "ON CONFLICT (deployment_id, target) DO NOTHING", new { deploymentId, target, batch }, tx);
            return 0;
        });

    /// <summary>Applies one progress report of the deploy agent. False when the target is not in the deployment's plan.</summary>
    public Task<bool> ReportAsync(long deploymentId, string target, string state, string? balancerState, string? step, string? reason, long now, bool final) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE deployment_target_results SET state = @state, balancer_state = COALESCE(@balancerState, balancer_state), step = COALESCE(@step, step), " +
            "reason = CASE WHEN @final THEN @reason ELSE COALESCE(@reason, reason) END, started_at = COALESCE(started_at, @now), " +
            "finished_at = CASE WHEN @final THEN @now ELSE finished_at END WHERE deployment_id = @deploymentId AND target = @target",
            new { deploymentId, target, state, balancerState, step, reason, now, final }, tx) == 1);

    /// <summary>A deployer's decision for a paused target; false unless it is paused with no decision pending (the caller checked why).</summary>
    public Task<bool> DecideAsync(long deploymentId, string target, string decision, string by) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE deployment_target_results SET decision = @decision, decided_by = @by " +
            "WHERE deployment_id = @deploymentId AND target = @target AND state = 'paused' AND decision IS NULL",
            new { deploymentId, target, decision, by }, tx) == 1);

    /// <summary>
    /// Takes up a pending decision for a paused target (once: it is cleared) and moves the target on at the same time
    /// (retry: deploying, skip: skipped, abort: failed), so it never reads as still waiting; the agent's reports follow.
    /// Null when there is none.
    /// </summary>
    public Task<(string Decision, string By)?> TakeDecisionAsync(long deploymentId, string target) =>
        db.WriteAsync<(string, string)?>(async (c, tx) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<TargetResultRow?>(
                "SELECT decision, decided_by FROM deployment_target_results WHERE deployment_id = @deploymentId AND target = @target AND state = 'paused'",
                new { deploymentId, target }, tx);
            if (row?.Decision is not { } decision) return null;
            var taken = await c.ExecuteAsync(
                "UPDATE deployment_target_results SET decision = NULL, step = @decision, state = CASE @decision WHEN 'retry' THEN 'deploying' " +
                "WHEN 'skip' THEN 'skipped' ELSE 'failed' END WHERE deployment_id = @deploymentId AND target = @target AND decision = @decision AND state = 'paused'",
                new { deploymentId, target, decision }, tx);
            return taken == 1 ? (decision, row.DecidedBy ?? "") : null;
        });

    /// <summary>Targets of a deployment that never reached a final state (the agent was lost): unknown, keeping what was last known.</summary>
    public Task MarkUnfinishedUnknownAsync(long deploymentId, string reason, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE deployment_target_results SET state = 'unknown', reason = @reason, finished_at = @now " +
            "WHERE deployment_id = @deploymentId AND state IN ('draining', 'deploying', 'enabling', 'restoring', 'paused')", new { deploymentId, reason, now }, tx));

    /// <summary>
    /// Targets a repair was putting back whose repair run has ended without saying (its agent was lost): unknown, with the
    /// load-balancer state last reported.
    /// </summary>
    public Task ResolveAbandonedRepairsAsync(long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE deployment_target_results SET state = 'unknown', reason = 'the repair ended without a result for this target (its agent was lost?)', " +
            "finished_at = @now WHERE state = 'restoring' AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.deployment_id = deployment_target_results.deployment_id " +
            "AND r.status IN ('pending', 'queued', 'running'))", new { now }, tx));

    /// <summary>Pending targets of a deployment that ended: they were never touched.</summary>
    public Task MarkPendingNotRunAsync(long deploymentId, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE deployment_target_results SET state = 'not-run', finished_at = @now WHERE deployment_id = @deploymentId AND state = 'pending'",
            new { deploymentId, now }, tx));

    /// <summary>Per target of the environment: the release its last successful deployment left on it, and its last result.</summary>
    public async Task<IReadOnlyDictionary<string, TargetStanding>> StandingAsync(long environmentId)
    {
        var rows = await db.ReadAsync(c => c.QueryAsync<(string Target, string State, string? Reason, long Number, string Version, long DeploymentId)>(
            "SELECT r.target, r.state, r.reason, d.number, rel.version, d.id FROM deployment_target_results r " +
            "JOIN deployments d ON d.id = r.deployment_id JOIN releases rel ON rel.id = d.release_id " +
            "WHERE d.environment_id = @environmentId AND r.state <> 'pending' AND r.state <> 'not-run' ORDER BY d.id", new { environmentId }));
        var standing = new Dictionary<string, TargetStanding>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            var current = standing.TryGetValue(r.Target, out var s) ? s.CurrentRelease : null;
            if (r.State == "succeeded") current = r.Version;
            standing[r.Target] = new TargetStanding(r.Target, current, r.State, r.Reason, r.Number);
        }
        return standing;
    }
}
