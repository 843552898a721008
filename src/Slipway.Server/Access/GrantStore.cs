using Dapper;

namespace Slipway.Server.Access;

/// <summary>Custom roles and the grants of roles to users (global, per project, per project environment).</summary>
public sealed class GrantStore(SqlDatabase db)
{
    private const string GrantSelect =
        "SELECT g.id, g.user_id, u.username, g.role, p.name AS project, g.environment, g.granted_by, g.created_at " +
        "FROM grants g JOIN users u ON u.id = g.user_id LEFT JOIN projects p ON p.id = g.project_id ";

    public async Task<IReadOnlyList<GrantRow>> ForUserAsync(long userId) =>
        (await db.ReadAsync(c => c.QueryAsync<GrantRow>(GrantSelect + "WHERE g.user_id = @userId ORDER BY g.id", new { userId }))).ToList();

    public async Task<IReadOnlyList<GrantRow>> ListAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<GrantRow>(GrantSelect + "ORDER BY u.username, g.id"))).ToList();

    /// <summary>Adds a grant; false when the user already has exactly this grant.</summary>
    public Task<bool> AddAsync(long userId, string role, long? projectId, string? environment, string grantedBy, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            var exists = await c.ExecuteScalarAsync<long?>(
                "SELECT id FROM grants WHERE user_id = @userId AND role = @role AND COALESCE(project_id, 0) = COALESCE(@projectId, 0) " +
                "AND COALESCE(environment, '') = COALESCE(@environment, '')", new { userId, role, projectId, environment }, tx);
            if (exists is not null) return false;
            await c.ExecuteAsync(
                "INSERT INTO grants (user_id, role, project_id, environment, granted_by, created_at) VALUES (@userId, @role, @projectId, @environment, @grantedBy, @now)",
                new { userId, role, projectId, environment, grantedBy, now }, tx);
            return true;
        });

    /// <summary>Removes a grant; false when there was no such grant.</summary>
    public Task<bool> RemoveAsync(long userId, string role, long? projectId, string? environment) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "DELETE FROM grants WHERE user_id = @userId AND role = @role AND COALESCE(project_id, 0) = COALESCE(@projectId, 0) " +
            "AND COALESCE(environment, '') = COALESCE(@environment, '')", new { userId, role, projectId, environment }, tx) > 0);

    /// <summary>How many global admin grants remain on enabled users (the last one cannot be removed).</summary>
    public Task<long> ActiveAdminCountAsync() =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(DISTINCT g.user_id) FROM grants g JOIN users u ON u.id = g.user_id " +
            "WHERE g.role = 'admin' AND g.project_id IS NULL AND u.disabled_at IS NULL"));

    public async Task<IReadOnlyList<RoleRow>> CustomRolesAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<RoleRow>("SELECT name, description, actions, created_by, created_at FROM roles ORDER BY name"))).ToList();

    /// <summary>Stores a custom role; false when the name is taken.</summary>
    public Task<bool> CreateRoleAsync(string name, string description, string actions, string createdBy, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<string?>("SELECT name FROM roles WHERE name = @name", new { name }, tx) is not null) return false;
            await c.ExecuteAsync("INSERT INTO roles (name, description, actions, created_by, created_at) VALUES (@name, @description, @actions, @createdBy, @now)",
                new { name, description, actions, createdBy, now }, tx);
            return true;
        });

    /// <summary>Deletes a custom role that nobody holds. Returns the number of grants that still use it (0 = deleted), or null if there is no such role.</summary>
    public Task<long?> DeleteRoleAsync(string name) =>
        db.WriteAsync<long?>(async (c, tx) =>
        {
            var inUse = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM grants WHERE role = @name", new { name }, tx);
            if (inUse > 0) return inUse;
            return await c.ExecuteAsync("DELETE FROM roles WHERE name = @name", new { name }, tx) > 0 ? 0 : null;
        });
}
