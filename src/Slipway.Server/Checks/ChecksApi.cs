using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Checks;

/// <summary>
/// Live checks: an environment's checks (/projects/{name}/environments/{env}/checks, changed with check.manage), a check's
/// history (.../checks/{id}/results), the environment's health (.../health) and the project's alert webhooks
/// (/projects/{name}/webhooks/alerts, check.manage). A thin adapter over <see cref="CheckService"/>.
/// </summary>
public static class ChecksApi
{
    public static void MapChecksApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/environments/{env}/checks", (string name, string env, HttpContext context, CheckService service) =>
                service.ListAsync(name, env, CheckService.SeesWhole(context.RequireUser())))
            .RequireAction(Actions.EnvironmentRead);
        api.MapPost("/projects/{name}/environments/{env}/checks", async (string name, string env, CheckRequest? request, HttpContext context, CheckService service) =>
        {
            var dto = await service.AddAsync(Actor.Of(context), name, env, request);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/environments/{Uri.EscapeDataString(env)}/checks/{dto.Id}", dto);
        }).RequireAction(Actions.CheckManage);
        api.MapDelete("/projects/{name}/environments/{env}/checks/{id:long}", async (string name, string env, long id, HttpContext context, CheckService service) =>
        {
            await service.RemoveAsync(Actor.Of(context), name, env, id);
            return Results.NoContent();
        }).RequireAction(Actions.CheckManage);
        api.MapGet("/projects/{name}/environments/{env}/checks/{id:long}/results", (string name, string env, long id, int? limit, CheckService service) =>
            service.ResultsAsync(name, env, id, limit)).RequireAction(Actions.EnvironmentRead);
        api.MapGet("/projects/{name}/environments/{env}/health", (string name, string env, HttpContext context, CheckService service) =>
                service.HealthAsync(name, env, CheckService.SeesWhole(context.RequireUser())))
            .RequireAction(Actions.EnvironmentRead);

        api.MapGet("/projects/{name}/webhooks/alerts", (string name, CheckService service) => service.WebhooksAsync(name)).RequireAction(Actions.EnvironmentRead);
        api.MapPost("/projects/{name}/webhooks/alerts", async (string name, AlertWebhookRequest? request, HttpContext context, CheckService service) =>
        {
            var dto = await service.AddWebhookAsync(Actor.Of(context), name, request);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/webhooks/alerts/{dto.Id}", dto);
        }).RequireAction(Actions.CheckManage);
        api.MapDelete("/projects/{name}/webhooks/alerts/{id:long}", async (string name, long id, HttpContext context, CheckService service) =>
        {
            await service.RemoveWebhookAsync(Actor.Of(context), name, id);
            return Results.NoContent();
        }).RequireAction(Actions.CheckManage);
    }
}
