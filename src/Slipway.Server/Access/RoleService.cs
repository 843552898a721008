using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Access;

/// <summary>
/// The built-in and custom roles (<see cref="RolesApi"/>, <see cref="AccessPages"/>): list, create, delete. A built-in
/// role and a role still granted cannot be deleted; every change is audited.
/// </summary>
public sealed class RoleService(GrantStore grants, TimeProvider clock)
{
    public async Task<IReadOnlyList<RoleDto>> AllAsync() =>
        BuiltInRoles.All.Concat((await grants.CustomRolesAsync()).Select(Authenticator.ToRole))
            .Select(r => new RoleDto(r.Name, r.Description, r.Actions.Order().ToList(), r.BuiltIn)).ToList();

    public async Task<RoleDto> CreateAsync(Actor actor, CreateRoleRequest request)
    {
        var role = Role.Custom(request.Name?.Trim() ?? "", request.Description, request.Actions ?? []);
        var actions = string.Join(',', role.Actions.Order());
        if (!await grants.CreateRoleAsync(role.Name, role.Description, actions, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ConflictException($"a role named '{role.Name}' already exists");
        await actor.AuditAsync(Actions.RoleManage, AuditOutcomes.Succeeded, $"role:{role.Name}", $"role created with {actions}");
        return new RoleDto(role.Name, role.Description, role.Actions.Order().ToList(), false);
    }

    public async Task DeleteAsync(Actor actor, string role)
    {
        if (BuiltInRoles.Find(role) is not null) throw new ConflictException($"'{role}' is a built-in role and cannot be deleted");
        var inUse = await grants.DeleteRoleAsync(role) ?? throw new KeyNotFoundException($"no role named '{role}'");
        if (inUse > 0) throw new ConflictException($"role '{role}' is still granted {inUse} time(s); revoke those grants first");
        await actor.AuditAsync(Actions.RoleManage, AuditOutcomes.Succeeded, $"role:{role}", "role deleted");
    }
}
