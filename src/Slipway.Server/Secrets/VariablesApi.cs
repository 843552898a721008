using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Secrets;

/// <summary>
/// /api/v1/projects/{name}/variables: list, set, delete a project's variables, a thin adapter over
/// <see cref="ProjectVariableService"/>. A secret's value goes in once (encrypted before it is stored) and never comes
/// out of this API; only jobs that list it receive it.
/// A protected variable or secret reaches only runs of protected branches and deployments (new secrets are
/// protected unless told otherwise). Nothing here logs a value.
/// </summary>
public static class VariablesApi
{
    public static void MapVariablesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/variables", (string name, ProjectVariableService service) => service.ListAsync(name))
            .RequireAction(Actions.VariableRead);
        api.MapPut("/projects/{name}/variables/{variable}", (string name, string variable, SetVariableRequest? request, HttpContext context,
            ProjectVariableService service) => service.SetAsync(Actor.Of(context), name, variable, request)).RequireAction(Actions.VariableWrite);
        api.MapDelete("/projects/{name}/variables/{variable}", async (string name, string variable, HttpContext context, ProjectVariableService service) =>
        {
            await service.DeleteAsync(Actor.Of(context), name, variable);
            return Results.NoContent();
        }).RequireAction(Actions.VariableWrite);
    }
}
