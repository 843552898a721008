using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Gates;
using Slipway.Core.Deployments;
using Slipway.Core.Environments;
using Slipway.Core.Policies;

using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Deployments;

/// <summary>
/// Deployment pages: the project × environment dashboard with the promote (previewing what will ship), deploy and
/// roll-back forms; one deployment with its approvals and the approve, reject and cancel buttons. Every form goes to
/// <see cref="DeploymentCommands"/>, as the API does, so the deployment rules, the approval policy and the audit entries
/// are the same whichever way a deployment is asked for.
/// </summary>
public static class DeploymentPages
{
    internal static void MapDeploymentPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{name}/environments", DashboardPageAsync).RequirePageAction(Actions.DeploymentRead);
        // Every project (that the user may read deployments of) × every environment name; filtered per project.
        app.MapGet("/environments", async (HttpContext context, DeploymentViews views, DeploymentStore deployments) =>
            Page<OverviewPage>(context, new
            {
                Projects = await views.OverviewAsync(context.RequireUser()),
                Waiting = await WaitingDeployments.ForAsync(context.RequireUser(), deployments),
            }))
            .RequirePageAction(Actions.UiView);
        app.MapPost("/projects/{name}/deploy", (string name, HttpContext context, DeploymentCommands commands) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = new DeployRequest(Field(form, "version"), Field(form, "environment"), Optional(form, "emergencyReason"));
            return Requested(name, await commands.DeployAsync(Actor.Of(context), name, request));
        })).RequirePageAction(Actions.DeploymentStart);
        // The version shown in the preview goes with the form: if the source environment moved on meanwhile, the API refuses.
        app.MapPost("/projects/{name}/promote", (string name, HttpContext context, DeploymentCommands commands) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = new DeployRequest(Optional(form, "version"), Field(form, "environment"), Optional(form, "emergencyReason"));
            return Requested(name, await commands.PromoteAsync(Actor.Of(context), name, request));
        })).RequirePageAction(Actions.DeploymentStart);
        app.MapPost("/projects/{name}/rollback", (string name, HttpContext context, DeploymentCommands commands) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = new RollbackRequest(Field(form, "environment"), Optional(form, "version"), Optional(form, "emergencyReason"));
            return Requested(name, await commands.RollbackAsync(Actor.Of(context), name, request));
        })).RequirePageAction(Actions.DeploymentStart);

        app.MapGet("/projects/{name}/deployments/{number:long}", DeploymentPageAsync).RequirePageAction(Actions.DeploymentRead);
        app.MapPost("/projects/{name}/deployments/{number:long}/approve", (string name, long number, HttpContext context, DeploymentCommands commands) =>
            Act(context, DeploymentPath(name, number), async form =>
        {
            var d = await commands.ApproveAsync(Actor.Of(context), name, number, Field(form, "comment"));
            return d.State == "awaiting_approval"
                ? $"You approved deployment #{number}; it awaits more approvals."
                : $"You approved deployment #{number}; it was {StateText(d.State)} then, and the page follows it from there.";
        })).RequirePageAction(Actions.DeploymentApprove);
        app.MapPost("/projects/{name}/deployments/{number:long}/reject", (string name, long number, HttpContext context, DeploymentCommands commands) =>
            Act(context, DeploymentPath(name, number), async form =>
        {
            await commands.RejectAsync(Actor.Of(context), name, number, Field(form, "reason"));
            return $"You rejected deployment #{number}; it will not run.";
        })).RequirePageAction(Actions.DeploymentApprove);
        app.MapPost("/projects/{name}/deployments/{number:long}/cancel", (string name, long number, HttpContext context, DeploymentCommands commands) =>
            Act(context, DeploymentPath(name, number), async () =>
        {
            var d = await commands.CancelAsync(Actor.Of(context), name, number);
            return d.State == "running" ? $"Deployment #{number} is being stopped through its run." : $"Deployment #{number} cancelled.";
        })).RequirePageAction(Actions.DeploymentStart);
        app.MapPost("/projects/{name}/deployments/{number:long}/targets/{target}/decision",
            (string name, long number, string target, HttpContext context, DeploymentCommands commands) =>
            Act(context, DeploymentPath(name, number), async form =>
        {
            var decision = Field(form, "decision");
            await commands.DecideAsync(Actor.Of(context), name, number, target, decision);
            return $"{decision} of {target} recorded; the deploy agent takes it up within seconds.";
        })).RequirePageAction(Actions.DeploymentStart);
        app.MapPost("/projects/{name}/deployments/{number:long}/repair", (string name, long number, HttpContext context, DeploymentCommands commands) =>
            Act(context, DeploymentPath(name, number), async () =>
        {
            var repair = await commands.RepairAsync(Actor.Of(context), name, number);
            return $"Repair started as run {repair.RunId}: {string.Join(", ", repair.Targets)} go back to ready once their load balancers report them UP.";
        })).RequirePageAction(Actions.DeploymentStart);
    }

    internal static async Task<IResult> DashboardPageAsync(string name, HttpContext context, ProjectStore projects, EnvironmentStore environments,
        DeploymentStore deployments, ReleaseStore releases, DeploymentViews views, GateService gates, Checks.CheckService checks)
    {
        var project = await projects.RequireAsync(name);
        var dashboard = await views.DashboardAsync(name);
        var settings = Lifecycle.Ordered((await environments.ListAsync(project.Id)).Select(e => e.Settings));
        var current = dashboard.Environments.Where(c => c.Current is not null).ToDictionary(c => c.Environment, c => c.Current!.Release);
        // Each environment after the first: what a promotion to it would ship (from the environment its release would come from).
        var previews = new Dictionary<string, EnvironmentComparisonDto>(StringComparer.Ordinal);
        foreach (var target in settings.Skip(1))
            if (Lifecycle.PromotionSource(settings, target.Name, current) is { } source)
                previews[target.Name] = await views.CompareAsync(name, source.Name, target.Name);
        var recent = await views.ToDtosAsync(await deployments.ListAsync(project.Id, limit: 20), withArtifacts: false);
        // What the release a promotion would take still needs before each environment's gates let it in.
        var needs = new Dictionary<string, (string Release, string Overall, IReadOnlyList<GateResultDto> Results, string? Rejection)>(StringComparer.Ordinal);
        foreach (var (env, preview) in previews)
            if (preview is { FromRelease: { } candidate, Releases.Count: > 0 } && await releases.FindAsync(project.Id, candidate) is { } release
                && await environments.FindAsync(project.Id, env) is { } row
                && await gates.JudgeAsync(project, row, release) is { } judged && (judged.Results.Count > 0 || judged.Rejection is not null))
                needs[env] = (candidate, GateResult.OutcomeName(judged.Overall), judged.Results.Select(GateService.ToDto).ToList(), judged.Rejection);
        // Each environment's health from its live checks (docs/live-checks.md), for those that have any.
        var health = new Dictionary<string, EnvironmentHealthDto>(StringComparer.Ordinal);
        foreach (var env in settings)
            if (await checks.HealthAsync(name, env.Name, Checks.CheckService.SeesWhole(context.RequireUser())) is { Status: not "none" } h) health[env.Name] = h;
        return Page<EnvironmentsPage>(context, new
        {
            Project = project.ToDto(), Dashboard = dashboard, Settings = settings, Previews = previews, Recent = recent, Needs = needs, Health = health,
            // Every deployment on its way, not only the recent ones: the server refuses a second request for the same release
            // to the same place however old the first is, so the buttons must know of all of them.
            OnItsWay = (await deployments.InStatesAsync(project.Id, DeploymentState.AwaitingApproval, DeploymentState.Queued, DeploymentState.Running))
                .Select(d => new WaitingDeployment(d.ProjectName, d.Number, d.Environment, d.Version, d.State, d.Initiator, UnixMs.To(d.RequestedAt))).ToList(),
            Versions = (await releases.ListAsync(project.Id)).OrderByDescending(r => r.Id).Select(r => r.Version).ToList(),
        });
    }

    internal static async Task<IResult> DeploymentPageAsync(string name, long number, HttpContext context, ProjectStore projects,
        DeploymentStore deployments, RunStore runs, EnvironmentStore environments, DeploymentService service, DeploymentViews views, GateService gates,
        GateStore gateStore)
    {
        var deployment = await views.ShowAsync(name, number);
        var run = deployment.RunId is { } runId ? await runs.GetAsync(runId) : null;
        var jobs = run is null ? [] : run.Jobs.OrderBy(j => j.StageIdx).Select(j => (j.Name, j.Status)).ToList();
        // The buttons only for whoever may use them, by the deployment service's own checks; the handlers decide again.
        var project = await projects.RequireAsync(name);
        var environment = (await environments.FindAsync(project.Id, deployment.Environment))?.Settings;
        var me = DeploymentService.InitiatorOf(context.RequireUser(), name, deployment.Environment);
        var mayDecide = environment is not null && DeploymentService.MayDecide(me, name, environment);
        string? approveRefusal = null;
        if (mayDecide && deployment.State == "awaiting_approval"
            && await deployments.FindAsync(project.Id, number) is { } row)
        {
            IReadOnlyCollection<string> authors;
            // Reading who wrote the changes needs git; if that fails the form is offered and the approval itself decides.
            try { authors = await service.AuthorsAndMergersAsync(project, row); }
            catch (ConflictException) { authors = []; }
            if (DeploymentRules.MayApprove(me.Name, me.Roles, row.Initiator, authors, environment!) is PolicyDecision.Refused refused)
                approveRefusal = refused.Message;
        }
        return Page<DeploymentPage>(context, new
        {
            Deployment = deployment, Jobs = jobs, ApproverRole = environment?.ApproverRole,
            MayDecide = mayDecide, ApproveRefusal = approveRefusal,
            MayCancel = environment is not null && DeploymentService.MayDeploy(me, name, environment),
            Gates = await gates.ResultsOfAsync((await deployments.FindAsync(project.Id, number))!.Id),
            Metrics = deployment.RunId is { } measuredBy ? (await gateStore.MetricsOfRunAsync(measuredBy)).Select(m => m.ToValue()).ToList() : [],
        });
    }

    /// <summary>The flash message and the page of a deployment just requested.</summary>
    internal static (string Message, string? Next) Requested(string project, DeploymentRow d)
    {
        var what = d.Kind switch { DeploymentService.KindPromote => "Promotion", DeploymentService.KindRollback => "Rollback", _ => "Deployment" };
        var state = d.State == "awaiting_approval" ? "awaits approval" : $"is {d.State}";
        return ($"{what} #{d.Number} of {d.Version} to {d.Environment} requested; it {state}.", DeploymentPath(project, d.Number));
    }

    internal static string EnvironmentsPath(string project) => $"/projects/{Uri.EscapeDataString(project)}/environments";

    internal static string EnvironmentPath(string project, string env) => $"{EnvironmentsPath(project)}/{Uri.EscapeDataString(env)}";

    internal static string DeploymentPath(string project, long number) => $"/projects/{Uri.EscapeDataString(project)}/deployments/{number}";
}
