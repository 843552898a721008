using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using static Slipway.Server.Web.WebUi;
using static Slipway.Server.Deployments.DeploymentPages;

namespace Slipway.Server.Environments;

/// <summary>
/// One environment's page: its settings, freeze windows, variables and deployment history, with the forms that change
/// them (each goes to <see cref="EnvironmentService"/>, as the API does: same checks, same audit entry).
/// </summary>
public static class EnvironmentPages
{
    public static void MapEnvironmentPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{name}/environments/{env}", EnvironmentPageAsync).RequirePageAction(Actions.EnvironmentRead);
        app.MapPost("/projects/{name}/environments", (string name, HttpContext context, EnvironmentService service) => Act(context, EnvironmentsPath(name), async form =>
        {
            var request = SettingsFrom(form, Field(form, "name")?.Trim());
            var saved = await service.SaveAsync(Actor.Of(context), name, null, request);
            return ($"Environment {request.Name} created.{Warned(saved)}", EnvironmentPath(name, request.Name ?? ""));
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/settings", (string name, string env, HttpContext context, EnvironmentService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var saved = await service.SaveAsync(Actor.Of(context), name, env, SettingsFrom(form, null));
            return $"Settings of {env} saved.{Warned(saved)}";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/freezes", (string name, string env, HttpContext context, EnvironmentService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var recurring = Field(form, "kind") != "once";
            var request = recurring
                ? new FreezeWindowRequest(Field(form, "name"), Field(form, "cron"), Field(form, "duration"), Optional(form, "timeZone"), null, null)
                : new FreezeWindowRequest(Field(form, "name"), null, null, null, Instant(Optional(form, "from"), "from"), Instant(Optional(form, "to"), "to"));
            await service.AddFreezeAsync(Actor.Of(context), name, env, request);
            return $"Freeze window '{request.Name?.Trim()}' added to {env}.";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/freezes/{id:long}/remove", (string name, string env, long id, HttpContext context,
            EnvironmentService service) => Act(context, EnvironmentPath(name, env), async () =>
        {
            await service.RemoveFreezeAsync(Actor.Of(context), name, env, id);
            return $"Freeze window removed from {env}.";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/variables", (string name, string env, HttpContext context, EnvironmentService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var variable = Field(form, "name")?.Trim() ?? "";
            var secret = Checked(form, "secret");
            await service.SetVariableAsync(Actor.Of(context), name, env, variable, new SetVariableRequest(TextareaValue(form, "value"), secret));
            return $"{(secret ? "Secret" : "Variable")} {variable} of {env} set.";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost("/projects/{name}/environments/{env}/variables/{var}/delete", (string name, string env, string var, HttpContext context,
            EnvironmentService service) => Act(context, EnvironmentPath(name, env), async () =>
        {
            await service.DeleteVariableAsync(Actor.Of(context), name, env, var);
            return $"Variable {var} of {env} deleted.";
        })).RequirePageAction(Actions.EnvironmentManage);
    }

    /// <summary>The API's warnings (no agent of the pool connected) after the success message, so a form user meets them too.</summary>
    private static string Warned(EnvironmentDto saved) => saved.Warnings is { Count: > 0 } w ? string.Concat(w.Select(x => $" Warning: {x}.")) : "";

    internal static async Task<IResult> EnvironmentPageAsync(string name, string env, HttpContext context, EnvironmentService service, DeploymentViews views,
        TargetService targets, CheckService checks, Gates.GateService gates)
    {
        var environment = await service.ShowAsync(name, env);
        var user = context.RequireUser();
        var history = user.Permissions.CanOnProject(Actions.DeploymentRead, name)
            ? await views.ListAsync(name, env)
            : null;
        var (health, checkHistory) = await checks.HealthWithRecentAsync(name, env, CheckService.SeesWhole(user), 10);
        // The webhook list is a project's (the API asks env.read on the project): a grant on one environment does not show it.
        IReadOnlyList<AlertWebhookDto>? webhooks = user.Permissions.CanOnProject(Actions.EnvironmentRead, name)
            ? await checks.WebhooksAsync(name, env)
            : null;
        // Where a new gate may measure: asked only for those who may add one (on this environment, as the endpoint checks).
        IReadOnlyList<string> gateSources = user.Permissions.Can(Actions.GateManage, new Scope(name, env)) ? await service.NamesAsync(name) : [];
        return Page<EnvironmentPage>(context, new
        {
            Environment = environment, History = history,
            Targets = await targets.ListAsync(name, env), Balancers = await targets.BalancersAsync(name, env),
            Health = health, CheckHistory = checkHistory, Webhooks = webhooks, Gates = await gates.ListAsync(name, env), GateSources = gateSources,
        });
    }

    /// <summary>
    /// An environment's settings as posted by <see cref="EnvironmentSettingsForm"/>. The form shows every setting, so an
    /// unticked box means off and an empty approver role means none (where the API's PATCH keeps what it is not given).
    /// </summary>
    internal static EnvironmentRequest SettingsFrom(IFormCollection form, string? name) => new(
        name,
        Number(Optional(form, "position"), "position"),
        Checked(form, "optional"),
        Optional(form, "pool"),
        Words(form, "deployers"),
        Number(Optional(form, "requiredApprovals"), "required approvals") ?? 0,
        Optional(form, "approverRole") ?? "",
        Checked(form, "autoDeploy"),
        Optional(form, "queuePolicy"));


    /// <summary>A date and time typed in a form (a datetime-local input has no zone: it is read as UTC).</summary>
    internal static DateTimeOffset? Instant(string? value, string what) => value is null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw new ArgumentException($"'{what}' is a date and time such as 2025-12-24T00:00 (UTC)");
}
