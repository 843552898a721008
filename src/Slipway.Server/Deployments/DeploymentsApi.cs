using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Deployments;
using Slipway.Core.Environments;

namespace Slipway.Server.Deployments;

/// <summary>
/// Deployments of a project: deploy, promote, roll back, approve, reject, cancel; the project × environment dashboard,
/// environment comparison and the evidence export. Every refusal names the rule that refused it; every change is audited.
/// </summary>
public static class DeploymentsApi
{
    public static void MapDeploymentsApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/projects/{name}/deployments", DeployAsync).RequireAction(Actions.DeploymentStart);
        api.MapPost("/projects/{name}/promotions", PromoteAsync).RequireAction(Actions.DeploymentStart);
        api.MapPost("/projects/{name}/rollbacks", RollbackAsync).RequireAction(Actions.DeploymentStart);
        api.MapGet("/projects/{name}/deployments", ListAsync).RequireAction(Actions.DeploymentRead);
        api.MapGet("/projects/{name}/deployments/export", ExportAsync).RequireAction(Actions.DeploymentRead);
        api.MapGet("/projects/{name}/deployments/{number:long}", ShowAsync).RequireAction(Actions.DeploymentRead);
        api.MapPost("/projects/{name}/deployments/{number:long}/approve", ApproveAsync).RequireAction(Actions.DeploymentApprove);
        api.MapPost("/projects/{name}/deployments/{number:long}/reject", RejectAsync).RequireAction(Actions.DeploymentApprove);
        api.MapPost("/projects/{name}/deployments/{number:long}/cancel", CancelAsync).RequireAction(Actions.DeploymentStart);
        api.MapGet("/projects/{name}/dashboard", DashboardAsync).RequireAction(Actions.DeploymentRead);
        api.MapGet("/dashboard", OverviewAsync).RequireAction(Actions.DeploymentRead);
        api.MapGet("/projects/{name}/compare", CompareAsync).RequireAction(Actions.DeploymentRead);
    }

    public static async Task<IResult> DeployAsync(string name, DeployRequest? request, HttpContext context, ProjectStore projects, DeploymentService service,
        DeploymentStore deployments, ReleaseStore releases)
    {
        if (request?.Version is null || request.Environment is null) throw new ArgumentException("the body must be {\"version\": \"1.4.7\", \"environment\": \"staging\"}");
        var project = await ProjectsApi.Find(projects, name);
        var environment = await service.EnvironmentAsync(project, request.Environment);
        var release = await service.ReleaseAsync(project, request.Version);
        return await RequestAsync(context, project, environment, release, DeploymentService.KindDeploy, request.EmergencyReason, service, deployments, releases);
    }

    public static async Task<IResult> PromoteAsync(string name, DeployRequest? request, HttpContext context, ProjectStore projects, DeploymentService service,
        DeploymentStore deployments, ReleaseStore releases)
    {
        if (request?.Environment is null) throw new ArgumentException("the body must be {\"environment\": \"production\"}");
        var project = await ProjectsApi.Find(projects, name);
        var environment = await service.EnvironmentAsync(project, request.Environment);
        var release = await service.PromotionReleaseAsync(project, environment);
        if (request.Version is not null && request.Version != release.Version)
            throw new ConflictException($"lifecycle: the release to promote to '{environment.Name}' is {release.Version}, not {request.Version}");
        return await RequestAsync(context, project, environment, release, DeploymentService.KindPromote, request.EmergencyReason, service, deployments, releases);
    }

    public static async Task<IResult> RollbackAsync(string name, RollbackRequest? request, HttpContext context, ProjectStore projects, DeploymentService service,
        DeploymentStore deployments, ReleaseStore releases)
    {
        if (request?.Environment is null) throw new ArgumentException("the body must be {\"environment\": \"production\", \"version\": null}");
        var project = await ProjectsApi.Find(projects, name);
        var environment = await service.EnvironmentAsync(project, request.Environment);
        var release = request.Version is null ? await service.RollbackReleaseAsync(project, environment) : await service.ReleaseAsync(project, request.Version);
        return await RequestAsync(context, project, environment, release, DeploymentService.KindRollback, request.EmergencyReason, service, deployments, releases);
    }

    private static async Task<IResult> RequestAsync(HttpContext context, ProjectRow project, EnvironmentRow environment, ReleaseRow release, string kind,
        string? emergencyReason, DeploymentService service, DeploymentStore deployments, ReleaseStore releases)
    {
        var user = context.RequireUser();
        var target = $"project:{project.Name} env:{environment.Name} release:{release.Version}";
        DeploymentRow d;
        try { d = await service.RequestAsync(project, environment, release, DeploymentService.InitiatorOf(user, project.Name, environment.Name), kind, emergencyReason); }
        catch (Exception e) when (e is PolicyRefusedException or ConflictException)
        {
            await context.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Denied, target, e.Message);
            throw;
        }
        await context.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Succeeded, target,
            (d.EmergencyReason is { } reason ? $"EMERGENCY DEPLOYMENT DURING FREEZE: {reason}; " : "") +
            $"{kind} #{d.Number}: {release.Version} to '{environment.Name}' ({d.State})");
        return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(project.Name)}/deployments/{d.Number}", await ToDtoAsync(d, deployments, releases));
    }

    public static async Task<IReadOnlyList<DeploymentDto>> ListAsync(string name, string? environment, ProjectStore projects, EnvironmentStore environments,
        DeploymentStore deployments, ReleaseStore releases, PoolPresence presence)
    {
        var project = await ProjectsApi.Find(projects, name);
        long? environmentId = environment is null ? null : (await environments.FindAsync(project.Id, environment) ?? throw new KeyNotFoundException($"no environment '{environment}'")).Id;
        return await ToDtosAsync(await deployments.ListAsync(project.Id, environmentId), deployments, releases, withArtifacts: false, presence);
    }

    public static async Task<DeploymentDto> ShowAsync(string name, long number, ProjectStore projects, DeploymentStore deployments, ReleaseStore releases,
        PoolPresence presence) =>
        await ToDtoAsync(await FindAsync(await ProjectsApi.Find(projects, name), number, deployments), deployments, releases, presence: presence);

    public static async Task<DeploymentDto> ApproveAsync(string name, long number, ApproveDeploymentRequest? request, HttpContext context, ProjectStore projects,
        DeploymentStore deployments, ReleaseStore releases, DeploymentService service)
    {
        var project = await ProjectsApi.Find(projects, name);
        var d = await FindAsync(project, number, deployments);
        var user = context.RequireUser();
        RequireOnEnvironment(user, Actions.DeploymentApprove, project.Name, d.Environment);
        var target = $"project:{name} env:{d.Environment} deployment:{number}";
        var updated = await service.ApproveAsync(project, d, DeploymentService.InitiatorOf(user, project.Name, d.Environment), request?.Comment,
            // No override reason: the approval rules of a deployment hold for everyone (policy.override does not lift them).
            decision => PolicyGate.EnforceAsync(context, decision, null, target));
        await context.AuditAsync(Actions.DeploymentApprove, AuditOutcomes.Succeeded, target, $"{d.Subject} approved ({updated.State})");
        return await ToDtoAsync(updated, deployments, releases);
    }

    public static async Task<DeploymentDto> RejectAsync(string name, long number, RejectDeploymentRequest? request, HttpContext context, ProjectStore projects,
        DeploymentStore deployments, ReleaseStore releases, DeploymentService service)
    {
        var project = await ProjectsApi.Find(projects, name);
        var d = await FindAsync(project, number, deployments);
        var user = context.RequireUser();
        RequireOnEnvironment(user, Actions.DeploymentApprove, project.Name, d.Environment);
        var updated = await service.RejectAsync(project, d, DeploymentService.InitiatorOf(user, project.Name, d.Environment), request?.Reason);
        await context.AuditAsync(Actions.DeploymentApprove, AuditOutcomes.Succeeded, $"project:{name} env:{d.Environment} deployment:{number}",
            $"{d.Subject} rejected: {request!.Reason}");
        return await ToDtoAsync(updated, deployments, releases);
    }

    public static async Task<DeploymentDto> CancelAsync(string name, long number, HttpContext context, ProjectStore projects, DeploymentStore deployments,
        ReleaseStore releases, DeploymentService service)
    {
        var project = await ProjectsApi.Find(projects, name);
        var d = await FindAsync(project, number, deployments);
        var user = context.RequireUser();
        RequireOnEnvironment(user, Actions.DeploymentStart, project.Name, d.Environment);
        var updated = await service.CancelAsync(d, DeploymentService.InitiatorOf(user, project.Name, d.Environment));
        await context.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Succeeded, $"project:{name} env:{d.Environment} deployment:{number}", $"{d.Subject} cancelled");
        return await ToDtoAsync(updated, deployments, releases);
    }

    public static async Task<DashboardDto> DashboardAsync(string name, ProjectStore projects, EnvironmentStore environments, DeploymentStore deployments,
        ReleaseStore releases, TimeProvider clock, PoolPresence presence)
    {
        var project = await ProjectsApi.Find(projects, name);
        var current = await deployments.CurrentAsync(project.Id);
        var all = await deployments.ListAsync(project.Id, limit: 1000);
        var cells = new List<DashboardCellDto>();
        foreach (var e in await environments.ListAsync(project.Id))
        {
            var mine = all.Where(d => d.EnvironmentId == e.Id).ToList();
            var cur = current.FirstOrDefault(d => d.EnvironmentId == e.Id);
            var freeze = Freezes.InForce((await environments.FreezesAsync(e.Id)).Select(f => f.Window), clock.GetUtcNow());
            cells.Add(new DashboardCellDto(e.Name, cur is null ? null : await ToDtoAsync(cur, deployments, releases, withArtifacts: false),
                mine.FirstOrDefault() is { } latest ? await ToDtoAsync(latest, deployments, releases, withArtifacts: false, presence) : null,
                mine.Count(d => d.State == "queued"), mine.Count(d => d.State == "awaiting_approval"), freeze?.Window.Name, freeze?.Until));
        }
        return new DashboardDto(project.Name, cells);
    }

    /// <summary>The project × environment matrix of every project whose deployments the user may read (Octopus's dashboard).</summary>
    public static async Task<IReadOnlyList<DashboardDto>> OverviewAsync(HttpContext context, ProjectStore projects, EnvironmentStore environments,
        DeploymentStore deployments, ReleaseStore releases, TimeProvider clock, PoolPresence presence)
    {
        var me = context.RequireUser();
        var list = new List<DashboardDto>();
        foreach (var p in await projects.ListAsync())
            if (me.Permissions.CanOnProject(Actions.DeploymentRead, p.Name))
                list.Add(await DashboardAsync(p.Name, projects, environments, deployments, releases, clock, presence));
        return list;
    }

    /// <summary>What a promotion from <paramref name="from"/> to <paramref name="to"/> would ship: releases and work items on one, not yet on the other.</summary>
    public static async Task<EnvironmentComparisonDto> CompareAsync(string name, string from, string to, ProjectStore projects, EnvironmentStore environments,
        DeploymentStore deployments, ReleaseStore releases)
    {
        var project = await ProjectsApi.Find(projects, name);
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

    /// <summary>The evidence of every deployment (optionally of one environment, requested in [from, to)) as CSV or JSON.</summary>
    public static async Task<IResult> ExportAsync(string name, string? environment, DateTimeOffset? from, DateTimeOffset? to, string? format, HttpContext context,
        ProjectStore projects, EnvironmentStore environments, DeploymentStore deployments, ReleaseStore releases)
    {
        var project = await ProjectsApi.Find(projects, name);
        long? environmentId = environment is null ? null : (await environments.FindAsync(project.Id, environment) ?? throw new KeyNotFoundException($"no environment '{environment}'")).Id;
        // Every deployment in the range, however many: an auditor's export is complete or it is worthless.
        var rows = await ToDtosAsync((await deployments.ListAsync(project.Id, environmentId, from?.ToUnixTimeMilliseconds(), to?.ToUnixTimeMilliseconds(), int.MaxValue))
            .OrderBy(d => d.Number).ToList(), deployments, releases, withArtifacts: true);
        await context.AuditAsync(Actions.DeploymentRead, AuditOutcomes.Succeeded, $"project:{name}", $"deployment evidence exported ({rows.Count} deployment{(rows.Count == 1 ? "" : "s")}, {format ?? "json"})");
        // A download, named for what it holds (the project and environment names are restricted to safe characters).
        context.Response.Headers.ContentDisposition =
            $"attachment; filename=\"slipway-deployments-{project.Name}{(environment is null ? "" : "-" + environment)}.{(format == "csv" ? "csv" : "json")}\"";
        if ((format ?? "json") == "json") return Results.Json(rows, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
        if (format != "csv") throw new ArgumentException("format is csv or json");
        var csv = new StringBuilder("number,environment,release,commit,kind,state,initiator,requested_at,started_at,finished_at,approvals,emergency_reason,artifacts,outcome,rollback_of,run_id,steps,logs\n");
        foreach (var d in rows)
            csv.AppendJoin(',', new[]
            {
                d.Number.ToString(), d.Environment, d.Release, d.Commit, d.Kind, d.State, d.Initiator, d.RequestedAt.ToString("u"), d.StartedAt?.ToString("u") ?? "",
                d.FinishedAt?.ToString("u") ?? "", string.Join("; ", d.Approvals.Select(a => $"{a.Verdict} by {a.Approver} at {a.At:u}{(a.Comment.Length > 0 ? ": " + a.Comment : "")}")),
                d.EmergencyReason ?? "", string.Join("; ", d.Artifacts.Select(a => $"{a.Path} sha256:{a.Sha256}")), d.Outcome ?? "", d.RollbackOf?.ToString() ?? "", d.RunId?.ToString() ?? "",
                string.Join("; ", (d.Steps ?? []).Select(j => $"{j.Name} {j.Status}{(j.FailureReason is { } r ? ": " + r : "")}")),
                string.Join("; ", (d.Steps ?? []).Select(j => j.Log)),
            }.Select(Core.Audit.AuditExport.CsvCell)).Append('\n');
        return Results.Text(csv.ToString(), "text/csv; charset=utf-8");
    }

    private static void RequireOnEnvironment(Principal.User user, string action, string project, string environment)
    {
        if (Authorizer.Decide(user, action, new Scope(project, environment)) is { Allowed: false, Reason: var reason })
            throw new PolicyRefusedException(reason!);
    }

    private static async Task<DeploymentRow> FindAsync(ProjectRow project, long number, DeploymentStore deployments) =>
        await deployments.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{project.Name}' has no deployment {number}");

    public static async Task<DeploymentDto> ToDtoAsync(DeploymentRow d, DeploymentStore deployments, ReleaseStore releases, bool withArtifacts = true,
        PoolPresence? presence = null) =>
        (await ToDtosAsync([d], deployments, releases, withArtifacts, presence))[0];

    /// <summary>
    /// Many deployments with their approvals and steps (one query each per 500) and release artifacts (one query per release, not
    /// per deployment). With <paramref name="presence"/>, a running deployment whose queued step has no agent of its pool says so.
    /// </summary>
    public static async Task<IReadOnlyList<DeploymentDto>> ToDtosAsync(IReadOnlyList<DeploymentRow> rows, DeploymentStore deployments, ReleaseStore releases,
        bool withArtifacts, PoolPresence? presence = null)
    {
        var approvals = await deployments.ApprovalsAsync(rows.Select(d => d.Id).ToList());
        var steps = await deployments.StepsAsync(rows.Where(d => d.RunId is not null).Select(d => d.RunId!.Value).ToList());
        var connected = presence is not null && rows.Any(d => d.State == "running") ? await presence.ConnectedAsync() : null;
        string? Waiting(DeploymentRow d) => connected is null || d.State != "running" || d.RunId is not { } runId ? null
            : PoolPresence.Waiting(steps[runId].Where(j => j.Status == "queued").Select(j => j.Pool), connected);
        var artifacts = new Dictionary<long, List<ReleaseArtifactDto>>();
        if (withArtifacts)
            foreach (var releaseId in rows.Select(d => d.ReleaseId).Distinct())
                artifacts[releaseId] = (await releases.ArtifactsAsync(releaseId)).Select(a => new ReleaseArtifactDto(a.Path, a.Sha256, a.Size)).ToList();
        return rows.Select(d => new DeploymentDto(d.ProjectName, d.Number, d.Environment, d.Version, d.CommitSha, d.PreviousVersion, d.Kind, d.State,
            d.Initiator, d.EmergencyReason, d.RollbackOfNumber, UnixMs.To(d.RequestedAt), UnixMs.To(d.QueuedAt), UnixMs.To(d.StartedAt), UnixMs.To(d.FinishedAt),
            d.Outcome, d.RunId,
            approvals[d.Id].Select(a => new DeploymentApprovalDto(a.Approver, a.Verdict, a.Comment, UnixMs.To(a.At))).ToList(),
            withArtifacts ? artifacts[d.ReleaseId] : [],
            d.RunId is not { } runId ? [] : steps[runId].Select(j => new DeploymentStepDto(j.Name, j.Status, j.FailureReason,
                $"/api/v1/runs/{runId}/jobs/{Uri.EscapeDataString(j.Name)}/log/raw")).ToList(), Waiting(d))).ToList();
    }
}
