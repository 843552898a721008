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
/// The deployments API: deploy, promote, roll back, approve, reject, cancel; the project × environment dashboard, environment
/// comparison and the evidence export. A thin adapter: the rules, permission checks and audit entries are in
/// <see cref="DeploymentCommands"/> (and the workflow in <see cref="DeploymentService"/>), what is shown in <see cref="DeploymentViews"/>.
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
        api.MapGet("/projects/{name}/deployments/{number:long}/targets", (string name, long number, DeploymentViews views) => views.TargetsAsync(name, number))
            .RequireAction(Actions.DeploymentRead);
        api.MapPost("/projects/{name}/deployments/{number:long}/approve", ApproveAsync).RequireAction(Actions.DeploymentApprove);
        api.MapPost("/projects/{name}/deployments/{number:long}/reject", RejectAsync).RequireAction(Actions.DeploymentApprove);
        api.MapPost("/projects/{name}/deployments/{number:long}/cancel", CancelAsync).RequireAction(Actions.DeploymentStart);
        api.MapPost("/projects/{name}/deployments/{number:long}/repair", RepairAsync).RequireAction(Actions.DeploymentStart);
        api.MapPost("/projects/{name}/deployments/{number:long}/targets/{target}/decision", DecideAsync).RequireAction(Actions.DeploymentStart);
        api.MapGet("/projects/{name}/dashboard", DashboardAsync).RequireAction(Actions.DeploymentRead);
        api.MapGet("/dashboard", OverviewAsync).RequireAction(Actions.DeploymentRead);
        api.MapGet("/projects/{name}/compare", CompareAsync).RequireAction(Actions.DeploymentRead);
    }

    private static async Task<IResult> DeployAsync(string name, DeployRequest? request, HttpContext context, DeploymentCommands commands, DeploymentViews views) =>
        Created(await views.ToDtoAsync(await commands.DeployAsync(Actor.Of(context), name, request)));

    private static async Task<IResult> PromoteAsync(string name, DeployRequest? request, HttpContext context, DeploymentCommands commands, DeploymentViews views) =>
        Created(await views.ToDtoAsync(await commands.PromoteAsync(Actor.Of(context), name, request)));

    private static async Task<IResult> RollbackAsync(string name, RollbackRequest? request, HttpContext context, DeploymentCommands commands, DeploymentViews views) =>
        Created(await views.ToDtoAsync(await commands.RollbackAsync(Actor.Of(context), name, request)));

    private static IResult Created(DeploymentDto d) =>
        Results.Created($"/api/v1/projects/{Uri.EscapeDataString(d.Project)}/deployments/{d.Number}", d);

    private static async Task<DeploymentDto> ApproveAsync(string name, long number, ApproveDeploymentRequest? request, HttpContext context,
        DeploymentCommands commands, DeploymentViews views) =>
        await views.ToDtoAsync(await commands.ApproveAsync(Actor.Of(context), name, number, request?.Comment));

    private static async Task<DeploymentDto> RejectAsync(string name, long number, RejectDeploymentRequest? request, HttpContext context,
        DeploymentCommands commands, DeploymentViews views) =>
        await views.ToDtoAsync(await commands.RejectAsync(Actor.Of(context), name, number, request?.Reason));

    private static async Task<DeploymentDto> CancelAsync(string name, long number, HttpContext context, DeploymentCommands commands, DeploymentViews views) =>
        await views.ToDtoAsync(await commands.CancelAsync(Actor.Of(context), name, number));

    private static Task<DeploymentTargetDto> DecideAsync(string name, long number, string target, TargetDecisionRequest? request, HttpContext context,
        DeploymentCommands commands) =>
        commands.DecideAsync(Actor.Of(context), name, number, target, request?.Decision);

    private static Task<RepairDto> RepairAsync(string name, long number, HttpContext context, DeploymentCommands commands) =>
        commands.RepairAsync(Actor.Of(context), name, number);

    private static Task<IReadOnlyList<DeploymentDto>> ListAsync(string name, string? environment, DeploymentViews views) => views.ListAsync(name, environment);
    private static Task<DeploymentDto> ShowAsync(string name, long number, DeploymentViews views) => views.ShowAsync(name, number);
    private static Task<DashboardDto> DashboardAsync(string name, DeploymentViews views) => views.DashboardAsync(name);
    private static Task<IReadOnlyList<DashboardDto>> OverviewAsync(HttpContext context, DeploymentViews views) => views.OverviewAsync(context.RequireUser());
    private static Task<EnvironmentComparisonDto> CompareAsync(string name, string from, string to, DeploymentViews views) => views.CompareAsync(name, from, to);

    /// <summary>The evidence of every deployment (optionally of one environment, requested in [from, to)) as CSV or JSON.</summary>
    private static async Task<IResult> ExportAsync(string name, string? environment, DateTimeOffset? from, DateTimeOffset? to, string? format, HttpContext context,
        DeploymentViews views)
    {
        if (format is not (null or "json" or "csv")) throw new ArgumentException("format is csv or json");
        var rows = await views.ExportAsync(Actor.Of(context), name, environment, from, to, format ?? "json");
        // A download, named for what it holds (the project and environment names are restricted to safe characters).
        context.Response.Headers.ContentDisposition =
            $"attachment; filename=\"slipway-deployments-{name}{(environment is null ? "" : "-" + environment)}.{(format == "csv" ? "csv" : "json")}\"";
        if ((format ?? "json") == "json") return Results.Json(rows, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
        var csv = new StringBuilder("number,environment,release,commit,kind,state,initiator,requested_at,started_at,finished_at,approvals,emergency_reason,artifacts,outcome,rollback_of,run_id,steps,logs,targets,gates,signoffs,watch_window\n");
        foreach (var d in rows)
            csv.AppendJoin(',', new[]
            {
                d.Number.ToString(), d.Environment, d.Release, d.Commit, d.Kind, d.State, d.Initiator, d.RequestedAt.ToString("u"), d.StartedAt?.ToString("u") ?? "",
                d.FinishedAt?.ToString("u") ?? "", string.Join("; ", d.Approvals.Select(a => $"{a.Verdict} by {a.Approver} at {a.At:u}{(a.Comment.Length > 0 ? ": " + a.Comment : "")}")),
                d.EmergencyReason ?? "", string.Join("; ", d.Artifacts.Select(a => $"{a.Path} sha256:{a.Sha256}")), d.Outcome ?? "", d.RollbackOf?.ToString() ?? "", d.RunId?.ToString() ?? "",
                string.Join("; ", (d.Steps ?? []).Select(j => $"{j.Name} {j.Status}{(j.FailureReason is { } r ? ": " + r : "")}")),
                string.Join("; ", (d.Steps ?? []).Select(j => j.Log)),
                string.Join("; ", (d.Targets ?? []).Select(t => $"{t.Target} batch {t.Batch} {t.State}" + (t.BalancerState is { } lb ? $" lb {lb}" : "") +
                                                                  (t.Reason is { } why ? $": {why}" : ""))),
                string.Join("; ", (d.Gates ?? []).Select(g => $"{g.Outcome} {g.Gate}: {g.Detail}")),
                string.Join("; ", (d.SignOffs ?? []).Select(s => $"{s.Kind} on {s.Environment} {s.Verdict} by {s.SignedBy} at {s.SignedAt:u}" + (s.Notes.Length > 0 ? $": {s.Notes}" : ""))),
                string.Join("; ", (d.WatchWindow ?? []).Select(r => $"check {r.CheckId} at {r.At:u} {(r.Ok ? "ok" : "failed")}: {r.Detail}")),
            }.Select(Core.Audit.AuditExport.CsvCell)).Append('\n');
        return Results.Text(csv.ToString(), "text/csv; charset=utf-8");
    }
}
