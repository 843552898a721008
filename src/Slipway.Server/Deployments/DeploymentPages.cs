using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Deployments;
using Slipway.Core.Environments;
using Slipway.Core.Policies;

using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Deployments;

/// <summary>
/// Environment and deployment pages: the project × environment dashboard with the promote (previewing what will
/// ship), deploy and roll-back forms; one environment with its settings, freeze windows, variables and history; one
/// deployment with its approvals and the approve, reject and cancel buttons. Every form runs the API's own handler
/// (<see cref="DeploymentsApi"/>, <see cref="EnvironmentsApi"/>), so the deployment rules, the approval policy and the
/// audit entries are the same whichever way a deployment is asked for.
/// </summary>
public static class DeploymentPages
{
    internal static void MapDeploymentPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{name}/environments", DashboardPageAsync).RequirePageAction(Actions.DeploymentRead);
        // Every project (that the user may read deployments of) × every environment name; filtered per project.
        app.MapGet("/environments", async (HttpContext context, ProjectStore projects, EnvironmentStore environments, DeploymentStore deployments,
            ReleaseStore releases, TimeProvider clock, PoolPresence presence) =>
            Page<OverviewPage>(context, new
            {
                Projects = await DeploymentsApi.OverviewAsync(context, projects, environments, deployments, releases, clock, presence),
                Waiting = await WaitingDeployments.ForAsync(context.RequireUser(), deployments),
            }))
            .RequirePageAction(Actions.UiView);
        app.MapPost("/projects/{name}/deploy", (string name, HttpContext context, ProjectStore projects, DeploymentService service,
            DeploymentStore deployments, ReleaseStore releases) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = new DeployRequest(Field(form, "version"), Field(form, "environment"), Optional(form, "emergencyReason"));
            return Requested(name, await DeploymentsApi.DeployAsync(name, request, context, projects, service, deployments, releases));
        })).RequirePageAction(Actions.DeploymentStart);
        // The version shown in the preview goes with the form: if the source environment moved on meanwhile, the API refuses.
        app.MapPost("/projects/{name}/promote", (string name, HttpContext context, ProjectStore projects, DeploymentService service,
            DeploymentStore deployments, ReleaseStore releases) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = new DeployRequest(Optional(form, "version"), Field(form, "environment"), Optional(form, "emergencyReason"));
            return Requested(name, await DeploymentsApi.PromoteAsync(name, request, context, projects, service, deployments, releases));
        })).RequirePageAction(Actions.DeploymentStart);
        app.MapPost("/projects/{name}/rollback", (string name, HttpContext context, ProjectStore projects, DeploymentService service,
            DeploymentStore deployments, ReleaseStore releases) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = new RollbackRequest(Field(form, "environment"), Optional(form, "version"), Optional(form, "emergencyReason"));
            return Requested(name, await DeploymentsApi.RollbackAsync(name, request, context, projects, service, deployments, releases));
        })).RequirePageAction(Actions.DeploymentStart);

        app.MapGet("/projects/{name}/environments/{env}", EnvironmentPageAsync).RequirePageAction(Actions.EnvironmentRead);
        app.MapPost("/projects/{name}/environments", (string name, HttpContext context, ProjectStore projects, EnvironmentStore environments,
            TimeProvider clock, PoolPresence presence) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = SettingsFrom(form, Field(form, "name")?.Trim());
            var saved = await EnvironmentsApi.SaveAsync(name, null, request, context, projects, environments, clock, presence);
            return ($"Environment {request.Name} created.{Warnings(saved)}", EnvironmentPath(name, request.Name ?? ""));
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/settings", (string name, string env, HttpContext context, ProjectStore projects,
            EnvironmentStore environments, TimeProvider clock, PoolPresence presence) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var saved = await EnvironmentsApi.SaveAsync(name, env, SettingsFrom(form, null), context, projects, environments, clock, presence);
            return $"Settings of {env} saved.{Warnings(saved)}";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/freezes", (string name, string env, HttpContext context, ProjectStore projects,
            EnvironmentStore environments, TimeProvider clock) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var recurring = Field(form, "kind") != "once";
            var request = recurring
                ? new FreezeWindowRequest(Field(form, "name"), Field(form, "cron"), Field(form, "duration"), Optional(form, "timeZone"), null, null)
                : new FreezeWindowRequest(Field(form, "name"), null, null, null, Instant(Optional(form, "from"), "from"), Instant(Optional(form, "to"), "to"));
            await EnvironmentsApi.AddFreezeAsync(name, env, request, context, projects, environments, clock);
            return $"Freeze window '{request.Name?.Trim()}' added to {env}.";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/freezes/{id:long}/remove", (string name, string env, long id, HttpContext context,
            ProjectStore projects, EnvironmentStore environments) => Act(context, EnvironmentPath(name, env), async () =>
        {
            await EnvironmentsApi.RemoveFreezeAsync(name, env, id, context, projects, environments);
            return $"Freeze window removed from {env}.";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/variables", (string name, string env, HttpContext context, ProjectStore projects,
            EnvironmentStore environments, SecretVault vault, TimeProvider clock) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var variable = Field(form, "name")?.Trim() ?? "";
            var secret = form["secret"].ToString() is "on" or "true";
            await EnvironmentsApi.SetVariableAsync(name, env, variable, new SetVariableRequest(Field(form, "value"), secret), context, projects,
                environments, vault, clock);
            return $"{(secret ? "Secret" : "Variable")} {variable} of {env} set.";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/variables/{var}/delete", (string name, string env, string var, HttpContext context,
            ProjectStore projects, EnvironmentStore environments) => Act(context, EnvironmentPath(name, env), async () =>
        {
            await EnvironmentsApi.DeleteVariableAsync(name, env, var, context, projects, environments);
            return $"Variable {var} of {env} deleted.";
        })).RequirePageAction(Actions.EnvironmentManage);

        app.MapGet("/projects/{name}/deployments/{number:long}", DeploymentPageAsync).RequirePageAction(Actions.DeploymentRead);
        app.MapPost("/projects/{name}/deployments/{number:long}/approve", (string name, long number, HttpContext context, ProjectStore projects,
            DeploymentStore deployments, ReleaseStore releases, DeploymentService service) => Act(context, DeploymentPath(name, number), async form =>
        {
            var d = await DeploymentsApi.ApproveAsync(name, number, new ApproveDeploymentRequest(Field(form, "comment")),
                context, projects, deployments, releases, service);
            return d.State == "awaiting_approval"
                ? $"You approved deployment #{number}; it awaits more approvals."
                : $"You approved deployment #{number}; it is {d.State.Replace('_', ' ')}.";
        })).RequirePageAction(Actions.DeploymentApprove);
        app.MapPost("/projects/{name}/deployments/{number:long}/reject", (string name, long number, HttpContext context, ProjectStore projects,
            DeploymentStore deployments, ReleaseStore releases, DeploymentService service) => Act(context, DeploymentPath(name, number), async form =>
        {
            await DeploymentsApi.RejectAsync(name, number, new RejectDeploymentRequest(Field(form, "reason")), context, projects, deployments, releases, service);
            return $"You rejected deployment #{number}; it will not run.";
        })).RequirePageAction(Actions.DeploymentApprove);
        app.MapPost("/projects/{name}/deployments/{number:long}/cancel", (string name, long number, HttpContext context, ProjectStore projects,
            DeploymentStore deployments, ReleaseStore releases, DeploymentService service, RunStore runs) => Act(context, DeploymentPath(name, number), async () =>
        {
            var d = await DeploymentsApi.CancelAsync(name, number, context, projects, deployments, releases, service);
            return d.State == "running" ? $"Deployment #{number} is being stopped through its run." : $"Deployment #{number} cancelled.";
        })).RequirePageAction(Actions.DeploymentStart);
    }

    internal static async Task<IResult> DashboardPageAsync(string name, HttpContext context, ProjectStore projects, EnvironmentStore environments,
        DeploymentStore deployments, ReleaseStore releases, TimeProvider clock, PoolPresence presence)
    {
        var project = await ProjectsApi.Find(projects, name);
        var dashboard = await DeploymentsApi.DashboardAsync(name, projects, environments, deployments, releases, clock, presence);
        var settings = Lifecycle.Ordered((await environments.ListAsync(project.Id)).Select(e => e.Settings));
        var current = dashboard.Environments.Where(c => c.Current is not null).ToDictionary(c => c.Environment, c => c.Current!.Release);
        // Each environment after the first: what a promotion to it would ship (from the environment its release would come from).
        var previews = new Dictionary<string, EnvironmentComparisonDto>(StringComparer.Ordinal);
        foreach (var target in settings.Skip(1))
            if (Lifecycle.PromotionSource(settings, target.Name, current) is { } source)
                previews[target.Name] = await DeploymentsApi.CompareAsync(name, source.Name, target.Name, projects, environments, deployments, releases);
        var recent = (await deployments.ListAsync(project.Id, limit: 20)).Select(d => new DeploymentDto(d.ProjectName, d.Number, d.Environment, d.Version,
            d.CommitSha, d.PreviousVersion, d.Kind, d.State, d.Initiator, d.EmergencyReason, d.RollbackOfNumber, UnixMs.To(d.RequestedAt), null,
            d.StartedAt is { } s ? UnixMs.To(s) : null, d.FinishedAt is { } f ? UnixMs.To(f) : null, d.Outcome, d.RunId, [], [])).ToList();
        return Page<EnvironmentsPage>(context, new
        {
            Project = project.ToDto(), Dashboard = dashboard, Settings = settings, Previews = previews, Recent = recent,
            Versions = (await releases.ListAsync(project.Id)).OrderByDescending(r => r.Id).Select(r => r.Version).ToList(),
        });
    }

    internal static async Task<IResult> EnvironmentPageAsync(string name, string env, HttpContext context, ProjectStore projects,
        EnvironmentStore environments, DeploymentStore deployments, ReleaseStore releases, TimeProvider clock, PoolPresence presence)
    {
        var environment = await EnvironmentsApi.ShowAsync(name, env, projects, environments, clock);
        var history = context.RequireUser().Permissions.CanOnProject(Actions.DeploymentRead, name)
            ? await DeploymentsApi.ListAsync(name, env, projects, environments, deployments, releases, presence)
            : null;
        return Page<EnvironmentPage>(context, new { Environment = environment, History = history });
    }

    internal static async Task<IResult> DeploymentPageAsync(string name, long number, HttpContext context, ProjectStore projects,
        DeploymentStore deployments, ReleaseStore releases, RunStore runs, EnvironmentStore environments, PoolPresence presence,
        DeploymentService service)
    {
        var deployment = await DeploymentsApi.ShowAsync(name, number, projects, deployments, releases, presence);
        var run = deployment.RunId is { } runId ? await runs.GetAsync(runId) : null;
        var jobs = run is null ? [] : run.Jobs.OrderBy(j => j.StageIdx).Select(j => (j.Name, j.Status)).ToList();
        // The buttons only for whoever may use them, by the deployment service's own checks; the handlers decide again.
        var project = await ProjectsApi.Find(projects, name);
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
        });
    }

    /// <summary>The flash message and the page of a deployment just requested through the API handler.</summary>
    internal static (string Message, string? Next) Requested(string project, IResult result)
    {
        var d = (result as IValueHttpResult)?.Value as DeploymentDto ?? throw new InvalidOperationException("the deployment API returned no deployment");
        var what = d.Kind switch { DeploymentService.KindPromote => "Promotion", DeploymentService.KindRollback => "Rollback", _ => "Deployment" };
        var state = d.State == "awaiting_approval" ? "awaits approval" : $"is {d.State}";
        return ($"{what} #{d.Number} of {d.Release} to {d.Environment} requested; it {state}.", DeploymentPath(project, d.Number));
    }

    /// <summary>The warnings the environments API gave with a saved environment (no agent of its pool), for the flash message.</summary>
    internal static string Warnings(IResult saved) =>
        ((saved as IValueHttpResult)?.Value as EnvironmentDto)?.Warnings is { Count: > 0 } warnings
            ? string.Concat(warnings.Select(w => $" Warning: {w}.")) : "";

    /// <summary>
    /// An environment's settings as posted by <see cref="EnvironmentSettingsForm"/>. The form shows every setting, so an
    /// unticked box means off and an empty approver role means none (where the API's PATCH keeps what it is not given).
    /// </summary>
    internal static EnvironmentRequest SettingsFrom(IFormCollection form, string? name) => new(
        name,
        Number(Optional(form, "position"), "position"),
        form["optional"].ToString() is "on" or "true",
        Optional(form, "pool"),
        (Field(form, "deployers") ?? "").Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries),
        Number(Optional(form, "requiredApprovals"), "required approvals") ?? 0,
        Optional(form, "approverRole") ?? "",
        form["autoDeploy"].ToString() is "on" or "true",
        Optional(form, "queuePolicy"));

    internal static int? Number(string? value, string what) => value is null ? null
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
        : throw new ArgumentException($"'{what}' must be a whole number, not '{value}'");


    /// <summary>A date and time typed in a form (a datetime-local input has no zone: it is read as UTC).</summary>
    internal static DateTimeOffset? Instant(string? value, string what) => value is null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw new ArgumentException($"'{what}' is a date and time such as 2025-12-24T00:00 (UTC)");

    internal static string EnvironmentsPath(string project) => $"/projects/{Uri.EscapeDataString(project)}/environments";

    internal static string EnvironmentPath(string project, string env) => $"{EnvironmentsPath(project)}/{Uri.EscapeDataString(env)}";

    internal static string DeploymentPath(string project, long number) => $"/projects/{Uri.EscapeDataString(project)}/deployments/{number}";
}
