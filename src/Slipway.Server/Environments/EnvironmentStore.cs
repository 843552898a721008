using System.Text.Json;
using Dapper;
using Slipway.Core.Environments;
using Slipway.Core.Secrets;

namespace Slipway.Server.Environments;

public sealed class EnvironmentRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Name { get; set; } = "";
    public long Position { get; set; }
    public bool Optional { get; set; }
    public string Pool { get; set; } = "";
    public string Deployers { get; set; } = "[]";
    public long RequiredApprovals { get; set; }
    public string? ApproverRole { get; set; }
    public bool AutoDeploy { get; set; }
    public string QueuePolicy { get; set; } = "oldest-first";
    public long UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";

    public EnvironmentSettings Settings => new(Name, (int)Position, Optional, Pool, JsonSerializer.Deserialize<List<string>>(Deployers) ?? [],
        (int)RequiredApprovals, ApproverRole, AutoDeploy, EnvironmentSettings.ParseQueue(QueuePolicy));
}

public sealed class FreezeWindowRow
{
    public long Id { get; set; }
    public long EnvironmentId { get; set; }
    public string Name { get; set; } = "";
    public string? Cron { get; set; }
    public long? DurationSeconds { get; set; }
    public string? TimeZone { get; set; }
    public long? FromAt { get; set; }
    public long? ToAt { get; set; }
    public long CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    public FreezeWindow Window => new(Name, Cron, DurationSeconds is { } d ? TimeSpan.FromSeconds(d) : null, TimeZone,
        FromAt is { } f ? DateTimeOffset.FromUnixTimeMilliseconds(f) : null, ToAt is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t) : null);
}

public sealed class EnvironmentVariableRow
{
    public long EnvironmentId { get; set; }
    public string Name { get; set; } = "";
    public string? Value { get; set; }
    public string? Ciphertext { get; set; }
    public bool Secret { get; set; }
    public long UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
}

/// <summary>Environments of projects, their freeze windows and their variables (server-side configuration). Thread-safe.</summary>
public sealed class EnvironmentStore(SqlDatabase db)
{
    private const string Columns =
        "id, project_id, name, position, optional, pool, deployers, required_approvals, approver_role, auto_deploy, queue_policy, updated_at, updated_by";

    public async Task<IReadOnlyList<EnvironmentRow>> ListAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<EnvironmentRow>(
            $"SELECT {Columns} FROM environments WHERE project_id = @projectId ORDER BY position, name", new { projectId }))).ToList();

    /// <summary>The environments of many projects in one query, each project's in lifecycle order.</summary>
    public async Task<IReadOnlyList<EnvironmentRow>> ListAsync(IReadOnlyCollection<long> projectIds) =>
        (await db.ReadAsync(c => c.QueryAsync<EnvironmentRow>(
            $"SELECT {Columns} FROM environments WHERE project_id IN {SqlIds.List(projectIds)} ORDER BY project_id, position, name"))).ToList();

    /// <summary>Environments that take every new release by themselves, of every project.</summary>
    public async Task<IReadOnlyList<EnvironmentRow>> AutoDeployAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<EnvironmentRow>($"SELECT {Columns} FROM environments WHERE auto_deploy ORDER BY project_id, position"))).ToList();

    /// <summary>The pools reserved for deployment jobs: those environments of any project deploy from (<see cref="DeployPools"/>).</summary>
    public async Task<IReadOnlySet<string>> ReservedPoolsAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<string>("SELECT DISTINCT pool FROM environments")))
            .Where(DeployPools.IsReservable).ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether an environment of another project than <paramref name="projectId"/> deploys through <paramref name="pool"/>.</summary>
    public async Task<bool> PoolSharedAsync(string pool, long projectId) =>
        await db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM environments WHERE pool = @pool AND project_id <> @projectId", new { pool, projectId })) > 0;

    /// <summary>
    /// Whether <paramref name="pool"/> is someone else's for project <paramref name="projectId"/>: an environment of another
    /// project deploys through it, or, when none of this project's environments uses it yet, agents serve it (they were
    /// registered into it for some project's work) or another project's jobs ran in it (its CI pool). Asked only when an
    /// environment is made or its pool changes, so the look through the jobs' history is rare.
    /// </summary>
    public async Task<bool> PoolTakenAsync(string pool, long projectId) =>
        await db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM environments WHERE pool = @pool AND project_id <> @projectId) THEN 1 " +
            "WHEN EXISTS (SELECT 1 FROM environments WHERE pool = @pool AND project_id = @projectId) THEN 0 " +
            "WHEN EXISTS (SELECT 1 FROM agents WHERE pool = @pool) THEN 1 " +
            "WHEN EXISTS (SELECT 1 FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.pool = @pool AND r.project_id <> @projectId) THEN 1 ELSE 0 END",
            new { pool, projectId })) == 1;

    public Task<EnvironmentRow?> FindAsync(long projectId, string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<EnvironmentRow>(
            $"SELECT {Columns} FROM environments WHERE project_id = @projectId AND name = @name", new { projectId, name }));

    public Task<EnvironmentRow?> GetAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<EnvironmentRow>($"SELECT {Columns} FROM environments WHERE id = @id", new { id }));

    /// <summary>Creates or (when <paramref name="create"/> is false) changes an environment; false when it exists / does not.</summary>
    public Task<bool> SaveAsync(long projectId, EnvironmentSettings s, bool create, string by, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            var args = new
            {
                projectId, name = s.Name, position = s.Position, optional = s.Optional, pool = s.Pool, deployers = JsonSerializer.Serialize(s.Deployers),
                required = s.RequiredApprovals, role = s.ApproverRole, auto = s.AutoDeploy, queue = EnvironmentSettings.QueueName(s.Queue), now, by,
            };
            var exists = await c.ExecuteScalarAsync<long?>("SELECT id FROM environments WHERE project_id = @projectId AND name = @name", args, tx);
            if (create != (exists is null)) return false;
            await c.ExecuteAsync(create
                ? "INSERT INTO environments (project_id, name, position, optional, pool, deployers, required_approvals, approver_role, auto_deploy, queue_policy, updated_at, updated_by) " +
                  "VALUES (@projectId, @name, @position, @optional, @pool, @deployers, @required, @role, @auto, @queue, @now, @by)"
                : "UPDATE environments SET position = @position, optional = @optional, pool = @pool, deployers = @deployers, required_approvals = @required, " +
                  "approver_role = @role, auto_deploy = @auto, queue_policy = @queue, updated_at = @now, updated_by = @by WHERE project_id = @projectId AND name = @name",
                args, tx);
            return true;
        });

    public async Task<IReadOnlyList<FreezeWindowRow>> FreezesAsync(long environmentId) =>
        (await db.ReadAsync(c => c.QueryAsync<FreezeWindowRow>(
            "SELECT id, environment_id, name, cron, duration_seconds, time_zone, from_at, to_at, created_at, created_by FROM freeze_windows " +
            "WHERE environment_id = @environmentId ORDER BY id", new { environmentId }))).ToList();

    /// <summary>The freeze windows of many environments in one query, by environment.</summary>
    public async Task<ILookup<long, FreezeWindowRow>> FreezesAsync(IReadOnlyCollection<long> environmentIds) =>
        (await db.ReadAsync(c => c.QueryAsync<FreezeWindowRow>(
            "SELECT id, environment_id, name, cron, duration_seconds, time_zone, from_at, to_at, created_at, created_by FROM freeze_windows " +
            $"WHERE environment_id IN {SqlIds.List(environmentIds)} ORDER BY id"))).ToLookup(f => f.EnvironmentId);

    public Task<long> AddFreezeAsync(long environmentId, FreezeWindow w, string by, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO freeze_windows (environment_id, name, cron, duration_seconds, time_zone, from_at, to_at, created_at, created_by) " +
            "VALUES (@environmentId, @Name, @Cron, @duration, @TimeZone, @from, @to, @now, @by) RETURNING id",
            new { environmentId, w.Name, w.Cron, duration = (long?)w.Duration?.TotalSeconds, w.TimeZone, from = w.From?.ToUnixTimeMilliseconds(),
                  to = w.To?.ToUnixTimeMilliseconds(), now, by }, tx));

    public Task<bool> RemoveFreezeAsync(long environmentId, long id) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("DELETE FROM freeze_windows WHERE environment_id = @environmentId AND id = @id",
            new { environmentId, id }, tx) == 1);

    public async Task<IReadOnlyList<EnvironmentVariableRow>> VariablesAsync(long environmentId) =>
        (await db.ReadAsync(c => c.QueryAsync<EnvironmentVariableRow>(
            "SELECT environment_id, name, value, ciphertext, secret, updated_at, updated_by FROM environment_variables WHERE environment_id = @environmentId ORDER BY name",
            new { environmentId }))).ToList();

    /// <summary>Sets a variable; a secret is never made plain by it (<see cref="VariableProtection.SecretToPlainRefusal"/>: 409).</summary>
    public Task SetVariableAsync(long environmentId, string name, string? value, string? ciphertext, bool secret, string by, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            // The update is skipped when the row is a secret and the new value is not, in the write itself (concurrent sets too).
            var written = await c.ExecuteAsync(
                "INSERT INTO environment_variables (environment_id, name, value, ciphertext, secret, updated_at, updated_by) VALUES (@environmentId, @name, @value, @ciphertext, @secret, @now, @by) " +
                "ON CONFLICT (environment_id, name) DO UPDATE SET value = @value, ciphertext = @ciphertext, secret = @secret, updated_at = @now, updated_by = @by " +
                "WHERE NOT (environment_variables.secret AND NOT excluded.secret)",
                new { environmentId, name, value, ciphertext, secret, now, by }, tx);
            if (written == 0) throw new ConflictException(VariableProtection.SecretToPlainRefusal(name));
            return written;
        });

    public Task<bool> DeleteVariableAsync(long environmentId, string name) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("DELETE FROM environment_variables WHERE environment_id = @environmentId AND name = @name",
            new { environmentId, name }, tx) == 1);
}
