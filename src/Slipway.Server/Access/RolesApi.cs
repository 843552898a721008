using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Access;

/// <summary>/api/v1/roles and /api/v1/actions: the built-in and custom roles, and the action catalogue they draw from; an adapter over <see cref="RoleService"/>.</summary>
public static class RolesApi
{
    public static void MapRolesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/roles", (RoleService service) => service.AllAsync()).RequireAction(Actions.UserRead);
        api.MapGet("/actions", () => Actions.Catalogue.Values.Where(a => a.Kind == ActionKind.User).OrderBy(a => a.Name)
            .Select(a => new ActionDto(a.Name, a.Scope.ToString().ToLowerInvariant(), a.Description))).RequireAction(Actions.UserRead);
        api.MapPost("/roles", async (CreateRoleRequest request, HttpContext context, RoleService service) =>
        {
            var role = await service.CreateAsync(Actor.Of(context), request);
            return Results.Created($"/api/v1/roles/{role.Name}", role);
        }).RequireAction(Actions.RoleManage);
        api.MapDelete("/roles/{role}", async (string role, HttpContext context, RoleService service) =>
        {
            await service.DeleteAsync(Actor.Of(context), role);
            return Results.NoContent();
        }).RequireAction(Actions.RoleManage);
    }
}
