using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using static Slipway.Server.Web.WebUi;
using static Slipway.Server.Deployments.DeploymentPages;

namespace Slipway.Server.Checks;

/// <summary>
/// The environment page's forms for live checks and alert webhooks: add and remove each. Each goes to
/// <see cref="CheckService"/>, as the API does (same rules, same audit entries); check.manage is checked on the route.
/// </summary>
public static class CheckPages
{
    public static void MapCheckPages(this IEndpointRouteBuilder app)
    {
        const string Environment = "/projects/{name}/environments/{env}";
        app.MapPost(Environment + "/checks", (string name, string env, HttpContext context, CheckService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var check = await service.AddAsync(Actor.Of(context), name, env, CheckFrom(form));
            return $"Check {check.Id} added to {env}: it runs {check.Schedule}.";
        })).RequirePageAction(Actions.CheckManage);
        app.MapPost(Environment + "/checks/{id:long}/remove", (string name, string env, long id, HttpContext context, CheckService service) =>
            Act(context, EnvironmentPath(name, env), async () =>
        {
            await service.RemoveAsync(Actor.Of(context), name, env, id);
            return $"Check {id} removed from {env}.";
        })).RequirePageAction(Actions.CheckManage);
        app.MapPost(Environment + "/alerts", (string name, string env, HttpContext context, CheckService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var all = Checked(form, "allEnvironments");
            var webhook = await service.AddWebhookAsync(Actor.Of(context), name, new AlertWebhookRequest(Field(form, "url"), Optional(form, "format"), all ? null : env));
            return $"Alert webhook {webhook.Id} ({webhook.Format}, {webhook.Url}) added for {(all ? "every environment" : env)}.";
        })).RequirePageAction(Actions.CheckManage);
        app.MapPost(Environment + "/alerts/{id:long}/remove", (string name, string env, long id, HttpContext context, CheckService service) =>
            Act(context, EnvironmentPath(name, env), async () =>
        {
            await service.RemoveWebhookAsync(Actor.Of(context), name, id);
            return $"Alert webhook {id} removed.";
        })).RequirePageAction(Actions.CheckManage);
    }

    /// <summary>A check as posted by the environment page's form: empty fields are the API's defaults.</summary>
    internal static CheckRequest CheckFrom(IFormCollection form) => new(
        Optional(form, "url"),
        Number(Optional(form, "expectStatus"), "expected status"),
        Field(form, "bodyContains") is { Length: > 0 } body ? body : null,
        Optional(form, "timeout"),
        Optional(form, "every"),
        Optional(form, "cron"),
        Optional(form, "timeZone"),
        Optional(form, "watch"),
        Optional(form, "kind"),
        Field(form, "script") is { Length: > 0 } script ? script : null,
        Optional(form, "releaseCheck"));
}
