using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Targets;

/// <summary>
/// /api/v1/projects/{name}/environments/{env}/targets[/{target}[/scan]] and .../balancers[/{balancer}]: read with env.read,
/// changed with env.manage. A thin adapter over <see cref="TargetService"/>.
/// </summary>
public static class TargetsApi
{
    public static void MapTargetsApi(this IEndpointRouteBuilder api)
    {
        const string Targets = "/projects/{name}/environments/{env}/targets";
        api.MapGet(Targets, (string name, string env, TargetService service) => service.ListAsync(name, env)).RequireAction(Actions.EnvironmentRead);
        api.MapPost(Targets, async (string name, string env, TargetRequest? request, HttpContext context, TargetService service) =>
        {
            var dto = await service.SaveAsync(Actor.Of(context), name, env, null, request);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/environments/{env}/targets/{dto.Name}", dto);
        }).RequireAction(Actions.EnvironmentManage);
        api.MapGet(Targets + "/{target}", (string name, string env, string target, TargetService service) => service.ShowAsync(name, env, target))
            .RequireAction(Actions.EnvironmentRead);
        api.MapPatch(Targets + "/{target}", (string name, string env, string target, TargetRequest? request, HttpContext context, TargetService service) =>
            service.SaveAsync(Actor.Of(context), name, env, target, request)).RequireAction(Actions.EnvironmentManage);
        api.MapDelete(Targets + "/{target}", async (string name, string env, string target, HttpContext context, TargetService service) =>
        {
            await service.RemoveAsync(Actor.Of(context), name, env, target);
            return Results.NoContent();
        }).RequireAction(Actions.EnvironmentManage);
        api.MapPost(Targets + "/{target}/scan", (string name, string env, string target, HostKeyScanRequest? request, HttpContext context, TargetService service) =>
            service.ScanAsync(Actor.Of(context), name, env, target, request?.Accept, context.RequestAborted)).RequireAction(Actions.EnvironmentManage);

        const string Balancers = "/projects/{name}/environments/{env}/balancers";
        api.MapGet(Balancers, (string name, string env, TargetService service) => service.BalancersAsync(name, env)).RequireAction(Actions.EnvironmentRead);
        api.MapPut(Balancers + "/{balancer}", (string name, string env, string balancer, BalancerRequest? request, HttpContext context, TargetService service) =>
            service.SaveBalancerAsync(Actor.Of(context), name, env, balancer, request)).RequireAction(Actions.EnvironmentManage);
        api.MapDelete(Balancers + "/{balancer}", async (string name, string env, string balancer, HttpContext context, TargetService service) =>
        {
            await service.RemoveBalancerAsync(Actor.Of(context), name, env, balancer);
            return Results.NoContent();
        }).RequireAction(Actions.EnvironmentManage);
    }
}
