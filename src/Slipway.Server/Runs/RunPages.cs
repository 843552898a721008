using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Runs;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Runs;

/// <summary>One run: its stage graph, jobs, logs and artifacts, with cancel and retry; and starting a run from the project page.</summary>
public static class RunPages
{
    public static void MapRunPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/runs/{id:long}", async (long id, HttpContext context, RunService service, ReleaseStore releases, DeploymentStore deployments,
            ProjectStore projects, ReleaseSettingsStore releaseSettings, PoolPresence presence, GateStore gates) =>
        {
            var details = await service.GetAsync(id);
            var project = await projects.GetAsync(details.Run.ProjectId);
            return Page<RunPage>(context, new
            {
                Run = details.ToDto(await presence.WaitingAsync(details)), ReleaseVersion = (await releases.ForRunAsync(id))?.Version,
                DeploymentNumber = details.Run.DeploymentId is { } deployment ? (await deployments.GetAsync(deployment))?.Number : null,
                OnReleaseBranch = project is not null && (await releaseSettings.GetAsync(project)).Releases(details.Run.Branch),
                Metrics = (await gates.MetricsOfRunAsync(id)).Select(m => m.ToDto()).ToList(),
            });
        }).RequirePageAction(Actions.RunRead);
        // The run's project is the scope of both (AccessMiddleware resolves it from {id}).
        app.MapPost("/runs/{id:long}/cancel", (long id, HttpContext context, RunService service) =>
            Act(context, $"/runs/{id}", async () => { await service.CancelAsync(id); return "Run cancelled."; }))
            .RequirePageAction(Actions.RunCancel);
        app.MapPost("/runs/{id:long}/retry", (long id, HttpContext context, RunService service) =>
            Act(context, $"/runs/{id}", async () => { await service.RetryAsync(id, null); return "Failed jobs queued again."; }))
            .RequirePageAction(Actions.RunRetry);
        // The project page's "Run pipeline" form: the runs service, as the API (same checks), then the new run's page.
        app.MapPost("/projects/{name}/runs/start", (string name, HttpContext context, RunService service) =>
            Act(context, $"/projects/{Uri.EscapeDataString(name)}", async form =>
        {
            var id = await service.StartAsync(Actor.Of(context), name, new StartRunRequest(Optional(form, "branch"), null), context.RequestAborted);
            var run = (await service.GetAsync(id)).Run;
            return ($"Run #{run.Number} of {run.Branch} started.", $"/runs/{id}");
        })).RequirePageAction(Actions.RunStart);
    }
}
