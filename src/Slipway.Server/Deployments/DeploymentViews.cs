using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Environments;

namespace Slipway.Server.Deployments;

/// <summary>
/// What is shown of deployments, to the API and the pages alike: lists, one deployment with its approvals, steps and
/// evidence, the project × environment dashboard, and what a promotion would ship. Read-only, except that an evidence
/// export is audited.
/// </summary>
public sealed class DeploymentViews(ProjectStore projects, EnvironmentStore environments, DeploymentStore deployments, ReleaseStore releases,
    TimeProvider clock, PoolPresence presence, TargetStore targets, GateStore gates, Checks.CheckStore checks)
{
    /// <summary>What a rolling deployment did to each target, in batch order (empty for a script deployment).</summary>
    public async Task<IReadOnlyList<DeploymentTargetDto>> TargetsAsync(string name, long number)
    {
        var project = await projects.RequireAsync(name);
        var d = await deployments.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{project.Name}' has no deployment {number}");
        return await TargetDtosAsync(d.Id);
    }

    private async Task<IReadOnlyList<DeploymentTargetDto>> TargetDtosAsync(long deploymentId) =>
        (await targets.ResultsAsync(deploymentId)).Select(r => new DeploymentTargetDto(r.Target, r.Batch, r.State, r.BalancerState, r.Step, r.Reason,
            UnixMs.To(r.StartedAt), UnixMs.To(r.FinishedAt), r.Decision is { } decision ? $"{decision} by {r.DecidedBy}" : null)).ToList();

    public async Task<IReadOnlyList<DeploymentDto>> ListAsync(string name, string? environment)
    {
        var project = await projects.RequireAsync(name);
        return await ToDtosAsync(await deployments.ListAsync(project.Id, await EnvironmentIdAsync(project, environment)), withArtifacts: false, waiting: true);
    }

    public async Task<DeploymentDto> ShowAsync(string name, long number)
    {
        var project = await projects.RequireAsync(name);
        var d = await deployments.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{project.Name}' has no deployment {number}");
        return await ToDtoAsync(d, waiting: true);
    }

    public async Task<DashboardDto> DashboardAsync(string name) => (await DashboardsAsync([await projects.RequireAsync(name)]))[0];

    /// <summary>The project × environment matrix of every project whose deployments <paramref name="me"/> may read (Octopus's dashboard).</summary>
    public async Task<IReadOnlyList<DashboardDto>> OverviewAsync(Principal.User me) =>
        await DashboardsAsync((await projects.ListAsync()).Where(p => me.Permissions.CanOnProject(Actions.DeploymentRead, p.Name)).ToList());

    /// <summary>
    /// The dashboards of the projects with a fixed number of queries, however many projects, environments and deployments
    /// there are (the overview once asked a dozen per project and read each project's last thousand deployments): per
    /// environment what is current there, the newest deployment and how many wait.
    /// </summary>
    private async Task<IReadOnlyList<DashboardDto>> DashboardsAsync(IReadOnlyList<ProjectRow> list)
    {
        if (list.Count == 0) return [];
        var ids = list.Select(p => p.Id).ToList();
        var environmentRows = await environments.ListAsync(ids);
        var freezes = await environments.FreezesAsync(environmentRows.Select(e => e.Id).ToList());
        var currentRows = await deployments.CurrentAsync(ids);
        var current = Zip(currentRows, await ToDtosAsync(currentRows, withArtifacts: false));
        var latestRows = await deployments.LatestAsync(ids);
        var latest = Zip(latestRows, await ToDtosAsync(latestRows, withArtifacts: false, waiting: true));
        var waiting = await deployments.WaitingCountsAsync(ids);
        var rollbackTargets = await deployments.RollbackTargetsAsync(ids);
        var now = clock.GetUtcNow();
        return list.Select(p => new DashboardDto(p.Name, environmentRows.Where(e => e.ProjectId == p.Id).Select(e =>
        {
            var freeze = Freezes.InForce(freezes[e.Id].Select(f => f.Window), now);
            return new DashboardCellDto(e.Name, current.GetValueOrDefault(e.Id), latest.GetValueOrDefault(e.Id),
                waiting.GetValueOrDefault((e.Id, "queued")), waiting.GetValueOrDefault((e.Id, "awaiting_approval")), freeze?.Window.Name, freeze?.Until,
                rollbackTargets.GetValueOrDefault(e.Id));
        }).ToList())).ToList();

        static Dictionary<long, DeploymentDto> Zip(IReadOnlyList<DeploymentRow> rows, IReadOnlyList<DeploymentDto> dtos) =>
            rows.Zip(dtos).ToDictionary(p => p.First.EnvironmentId, p => p.Second);
    }

    /// <summary>What a promotion from <paramref name="from"/> to <paramref name="to"/> would ship: releases and work items on one, not yet on the other.</summary>
    public async Task<EnvironmentComparisonDto> CompareAsync(string name, string from, string to)
    {
        var project = await projects.RequireAsync(name);
        foreach (var env in new[] { from, to })
            if (await environments.FindAsync(project.Id, env) is null) throw new KeyNotFoundException($"project '{name}' has no environment '{env}'");
        var current = await deployments.CurrentAsync(project.Id);
        var fromRelease = current.FirstOrDefault(d => d.Environment == from);
        var toRelease = current.FirstOrDefault(d => d.Environment == to);
        var shipped = fromRelease is null ? [] : (await releases.ListAsync(project.Id))
            .Where(r => r.Id <= fromRelease.ReleaseId && (toRelease is null || r.Id > toRelease.ReleaseId)).OrderBy(r => r.Id).ToList();
        var items = new List<ReleaseItemDto>();
        foreach (var r in shipped)
            items.AddRange((await releases.ItemsAsync(r.Id)).Select(i => new ReleaseItemDto(i.Key, i.Title, i.Kind)));
        return new EnvironmentComparisonDto(from, to, fromRelease?.Version, toRelease?.Version, shipped.Select(r => r.Version).ToList(),
            items.DistinctBy(i => i.Key).ToList());
    }

    /// <summary>
    /// The evidence of every deployment (optionally of one environment, requested in [from, to)), however many: an auditor's
    /// export is complete or it is worthless. Audited as a read of deployments.
    /// </summary>
    public async Task<IReadOnlyList<DeploymentDto>> ExportAsync(Actor actor, string name, string? environment, DateTimeOffset? from, DateTimeOffset? to, string format)
    {
        var project = await projects.RequireAsync(name);
        var rows = await ToDtosAsync((await deployments.ListAsync(project.Id, await EnvironmentIdAsync(project, environment), from?.ToUnixTimeMilliseconds(),
            to?.ToUnixTimeMilliseconds(), int.MaxValue)).OrderBy(d => d.Number).ToList(), withArtifacts: true);
        await actor.AuditAsync(Actions.DeploymentRead, AuditOutcomes.Succeeded, $"project:{name}",
            $"deployment evidence exported ({rows.Count} deployment{(rows.Count == 1 ? "" : "s")}, {format})");
        return rows;
    }

    private async Task<long?> EnvironmentIdAsync(ProjectRow project, string? environment) => environment is null ? null
        : (await environments.FindAsync(project.Id, environment) ?? throw new KeyNotFoundException($"no environment '{environment}'")).Id;

    public async Task<DeploymentDto> ToDtoAsync(DeploymentRow d, bool withArtifacts = true, bool waiting = false) =>
        (await ToDtosAsync([d], withArtifacts, waiting))[0];

    /// <summary>
    /// Many deployments with their approvals and steps (one query each per 500) and release artifacts (one query per release, not
    /// per deployment). With <paramref name="waiting"/>, a running deployment whose queued step has no agent of its pool says so.
    /// </summary>
    public async Task<IReadOnlyList<DeploymentDto>> ToDtosAsync(IReadOnlyList<DeploymentRow> rows, bool withArtifacts, bool waiting = false)
    {
        var approvals = await deployments.ApprovalsAsync(rows.Select(d => d.Id).ToList());
        var steps = await deployments.StepsAsync(rows.Where(d => d.RunId is not null).Select(d => d.RunId!.Value).ToList());
        var connected = waiting && rows.Any(d => d.State == "running") ? await presence.ConnectedAsync() : null;
        string? Waiting(DeploymentRow d) => connected is null || d.State != "running" || d.RunId is not { } runId ? null
            : PoolPresence.Waiting(steps[runId].Where(j => j.Status == "queued").Select(j => j.Pool), connected);
        var artifacts = new Dictionary<long, List<ReleaseArtifactDto>>();
        var perTarget = new Dictionary<long, IReadOnlyList<DeploymentTargetDto>>();
        var gateResults = new Dictionary<long, IReadOnlyList<GateResultDto>>();
        var signOffs = new Dictionary<long, IReadOnlyList<SignOffRow>>();
        var watched = new Dictionary<long, IReadOnlyList<CheckResultDto>>();
        if (withArtifacts)
            foreach (var d in rows)
            {
                watched[d.Id] = (await checks.ResultsOfDeploymentAsync(d.Id)).Select(r => new CheckResultDto(r.Id, r.CheckId, UnixMs.To(r.At), r.Ok, r.StatusCode,
                    r.DurationMs, r.Detail, r.DeploymentNumber)).ToList();
                perTarget[d.Id] = await TargetDtosAsync(d.Id);
                gateResults[d.Id] = (await gates.ResultsAsync(d.Id)).Select(r => r.ToDto()).ToList();
                if (!signOffs.ContainsKey(d.ReleaseId)) signOffs[d.ReleaseId] = await gates.SignOffsAsync(d.ReleaseId);
            }
        IReadOnlyList<SignOffDto>? SignedBefore(DeploymentRow d) => !signOffs.TryGetValue(d.ReleaseId, out var all) ? null
            : all.Where(s => s.SignedAt <= d.RequestedAt).Select(s => s.ToDto(d.Version)).ToList();
        // on_failure: pause — a running deployment whose failed targets wait for a deployer says so before anything else.
        string? Paused(DeploymentRow d) => d.State != "running" || !perTarget.TryGetValue(d.Id, out var ts)
            || ts.Where(t => t.State == Contracts.Agents.TargetStates.Paused && t.PendingDecision is null).Select(t => t.Target).ToList() is not { Count: > 0 } paused ? null
            : $"waiting for a decision on {string.Join(", ", paused)}: retry, skip or abort (slipway deployment decide {d.ProjectName} {d.Number} TARGET retry|skip|abort)";
        if (withArtifacts)
            foreach (var releaseId in rows.Select(d => d.ReleaseId).Distinct())
                artifacts[releaseId] = (await releases.ArtifactsAsync(releaseId)).Select(a => new ReleaseArtifactDto(a.Path, a.Sha256, a.Size)).ToList();
        return rows.Select(d => new DeploymentDto(d.ProjectName, d.Number, d.Environment, d.Version, d.CommitSha, d.PreviousVersion, d.Kind, d.State,
            d.Initiator, d.EmergencyReason, d.RollbackOfNumber, UnixMs.To(d.RequestedAt), UnixMs.To(d.QueuedAt), UnixMs.To(d.StartedAt), UnixMs.To(d.FinishedAt),
            d.Outcome, d.RunId,
            approvals[d.Id].Select(a => new DeploymentApprovalDto(a.Approver, a.Verdict, a.Comment, UnixMs.To(a.At))).ToList(),
            withArtifacts ? artifacts[d.ReleaseId] : [],
            d.RunId is not { } runId ? [] : steps[runId].Select(j => new DeploymentStepDto(j.Name, j.Status, j.FailureReason,
                $"/api/v1/runs/{runId}/jobs/{Uri.EscapeDataString(j.Name)}/log/raw")).ToList(), Paused(d) ?? Waiting(d),
            withArtifacts ? perTarget[d.Id] : null, d.GateHold, gateResults.GetValueOrDefault(d.Id), SignedBefore(d),
            watched.GetValueOrDefault(d.Id))).ToList();
    }
}
