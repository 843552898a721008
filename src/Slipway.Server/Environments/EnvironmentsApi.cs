using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Environments;
using Slipway.Core.Secrets;

namespace Slipway.Server.Environments;

/// <summary>
/// Environments of a project (/api/v1/projects/{name}/environments[/{env}[/freezes|/variables]]): server-side
/// configuration, changed only with env.manage and audited. Secret values are write-only. A thin adapter over
/// <see cref="EnvironmentService"/>, which holds the checks and writes the audit entries.
/// </summary>
public static class EnvironmentsApi
{
    public static void MapEnvironmentsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/environments", (string name, EnvironmentService service) => service.ListAsync(name))
            .RequireAction(Actions.EnvironmentRead);
        api.MapPost("/projects/{name}/environments", async (string name, EnvironmentRequest? request, HttpContext context, EnvironmentService service) =>
        {
            var dto = await service.SaveAsync(Actor.Of(context), name, null, request);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/environments/{dto.Name}", dto);
        }).RequireAction(Actions.EnvironmentManage);
        api.MapGet("/projects/{name}/environments/{env}", (string name, string env, EnvironmentService service) => service.ShowAsync(name, env))
            .RequireAction(Actions.EnvironmentRead);
        api.MapPatch("/projects/{name}/environments/{env}", (string name, string env, EnvironmentRequest? request, HttpContext context,
            EnvironmentService service) => service.SaveAsync(Actor.Of(context), name, env, request)).RequireAction(Actions.EnvironmentManage);
        api.MapPost("/projects/{name}/environments/{env}/freezes", async (string name, string env, FreezeWindowRequest? request, HttpContext context,
            EnvironmentService service) =>
            Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/environments/{env}", await service.AddFreezeAsync(Actor.Of(context), name, env, request)))
            .RequireAction(Actions.EnvironmentManage);
        api.MapDelete("/projects/{name}/environments/{env}/freezes/{id}", async (string name, string env, long id, HttpContext context, EnvironmentService service) =>
        {
            await service.RemoveFreezeAsync(Actor.Of(context), name, env, id);
            return Results.NoContent();
        }).RequireAction(Actions.EnvironmentManage);
        api.MapPut("/projects/{name}/environments/{env}/variables/{var}", async (string name, string env, string var, SetVariableRequest? request,
            HttpContext context, EnvironmentService service) =>
        {
            await service.SetVariableAsync(Actor.Of(context), name, env, var, request);
            return Results.Ok(new { project = name, environment = env, name = var, secret = request!.Secret });
        }).RequireAction(Actions.EnvironmentManage);
        api.MapDelete("/projects/{name}/environments/{env}/variables/{var}", async (string name, string env, string var, HttpContext context,
            EnvironmentService service) =>
        {
            await service.DeleteVariableAsync(Actor.Of(context), name, env, var);
            return Results.NoContent();
        }).RequireAction(Actions.EnvironmentManage);
    }
}

