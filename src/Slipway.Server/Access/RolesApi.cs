using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Access;

/// <summary>/api/v1/roles and /api/v1/actions: the built-in and custom roles, and the action catalogue they draw from.</summary>
public static class RolesApi
{
    public static void MapRolesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/roles", AllAsync).RequireAction(Actions.UserRead);
        api.MapGet("/actions", () => Actions.Catalogue.Values.Where(a => a.Kind == ActionKind.User).OrderBy(a => a.Name)
            .Select(a => new ActionDto(a.Name, a.Scope.ToString().ToLowerInvariant(), a.Description))).RequireAction(Actions.UserRead);
        api.MapPost("/roles", CreateAsync).RequireAction(Actions.RoleManage);
        api.MapDelete("/roles/{role}", DeleteAsync).RequireAction(Actions.RoleManage);
    }

    public static async Task<IReadOnlyList<RoleDto>> AllAsync(GrantStore grants) =>
        BuiltInRoles.All.Concat((await grants.CustomRolesAsync()).Select(Authenticator.ToRole))
            .Select(r => new RoleDto(r.Name, r.Description, r.Actions.Order().ToList(), r.BuiltIn)).ToList();

    internal static async Task<IResult> CreateAsync(CreateRoleRequest request, HttpContext context, GrantStore grants, TimeProvider clock)
    {
        var role = Role.Custom(request.Name?.Trim() ?? "", request.Description, request.Actions ?? []);
        var actions = string.Join(',', role.Actions.Order());
        if (!await grants.CreateRoleAsync(role.Name, role.Description, actions, context.RequireUser().Username, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ConflictException($"a role named '{role.Name}' already exists");
        await context.AuditAsync(Actions.RoleManage, AuditOutcomes.Succeeded, $"role:{role.Name}", $"role created with {actions}");
        return Results.Created($"/api/v1/roles/{role.Name}", new RoleDto(role.Name, role.Description, role.Actions.Order().ToList(), false));
    }

    internal static async Task<IResult> DeleteAsync(string role, HttpContext context, GrantStore grants)
    {
        if (BuiltInRoles.Find(role) is not null) throw new ConflictException($"'{role}' is a built-in role and cannot be deleted");
        var inUse = await grants.DeleteRoleAsync(role) ?? throw new KeyNotFoundException($"no role named '{role}'");
        if (inUse > 0) throw new ConflictException($"role '{role}' is still granted {inUse} time(s); revoke those grants first");
        await context.AuditAsync(Actions.RoleManage, AuditOutcomes.Succeeded, $"role:{role}", "role deleted");
        return Results.NoContent();
    }
}
