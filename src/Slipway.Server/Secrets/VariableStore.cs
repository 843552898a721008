using Dapper;
using Slipway.Core.Secrets;

namespace Slipway.Server.Secrets;

/// <summary>A project variable as stored. A secret has <see cref="Value"/> null and only <see cref="Ciphertext"/>.</summary>
public sealed class VariableRow
{
    public long ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string? Value { get; set; }
    public long Secret { get; set; }
    public string? Ciphertext { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
    /// <summary>1: given only to runs of protected branches and to deployments.</summary>
    public long Protected { get; set; }

    public bool IsSecret => Secret != 0;
    public bool IsProtected => Protected != 0;
}

/// <summary>
/// Per-project variables (table project_variables). Stores what it is given: encryption happens before
/// (see <c>Secrets.SecretVault</c>), so this class never sees a secret in clear. Thread-safe.
/// </summary>
public sealed class VariableStore(SqlDatabase db)
{
    private const string Columns = "project_id, name, value, secret, ciphertext, created_at, updated_at, updated_by, protected";

    public async Task<IReadOnlyList<VariableRow>> ListAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<VariableRow>(
            $"SELECT {Columns} FROM project_variables WHERE project_id = @projectId ORDER BY name", new { projectId }))).ToList();

    /// <summary>
    /// Creates or replaces one variable; exactly one of <paramref name="value"/> (plain) and
    /// <paramref name="ciphertext"/> (secret) is set. <paramref name="protectedRequested"/> null: the flag follows
    /// <see cref="VariableProtection.Resolve"/> from the row as it was, read in the same transaction. Returns the stored row.
    /// </summary>
    public Task<VariableRow> SetAsync(long projectId, string name, string? value, string? ciphertext, string updatedBy, long now, bool? protectedRequested = null)
    {
        if ((value is null) == (ciphertext is null))
            throw new ArgumentException("a variable has either a plain value or a ciphertext");
        var secret = ciphertext is null ? 0L : 1L;
        return db.WriteAsync(async (c, tx) =>
        {
            var existing = await c.QuerySingleOrDefaultAsync<VariableRow>(
                $"SELECT {Columns} FROM project_variables WHERE project_id = @projectId AND name = @name", new { projectId, name }, tx);
            var isProtected = VariableProtection.Resolve(protectedRequested, secret == 1, existing is null ? null : (existing.IsSecret, existing.IsProtected)) ? 1L : 0L;
            // A secret is never made plain (VariableProtection.SecretToPlainRefusal): the update is skipped, in the write
            // itself so that a secret set concurrently (PostgreSQL reads committed) is never overwritten either.
            var written = await c.ExecuteAsync(
                "INSERT INTO project_variables (project_id, name, value, secret, ciphertext, created_at, updated_at, updated_by, protected) " +
                "VALUES (@projectId, @name, @value, @secret, @ciphertext, @now, @now, @updatedBy, @isProtected) " +
                "ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value, secret = excluded.secret, " +
                "ciphertext = excluded.ciphertext, updated_at = excluded.updated_at, updated_by = excluded.updated_by, protected = excluded.protected " +
                "WHERE NOT (project_variables.secret = 1 AND excluded.secret = 0)",
                new { projectId, name, value, secret, ciphertext, now, updatedBy, isProtected }, tx);
            if (written == 0) throw new ConflictException(VariableProtection.SecretToPlainRefusal(name));
            return await c.QuerySingleAsync<VariableRow>(
                $"SELECT {Columns} FROM project_variables WHERE project_id = @projectId AND name = @name", new { projectId, name }, tx);
        });
    }

    /// <summary>False when there was no such variable.</summary>
    public Task<bool> DeleteAsync(long projectId, string name) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "DELETE FROM project_variables WHERE project_id = @projectId AND name = @name", new { projectId, name }, tx) == 1);
}
