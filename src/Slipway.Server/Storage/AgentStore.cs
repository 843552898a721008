using Dapper;

namespace Slipway.Server.Storage;

/// <summary>Agents, their credentials (hashed) and the registration tokens that admit them.</summary>
public sealed class AgentStore(Database db)
{
    private const string Columns =
        "a.id, a.name, a.pool, a.labels, a.slots, a.status, a.protocol_version, a.created_at, a.last_seen_at, " +
        "(SELECT COUNT(*) FROM jobs j WHERE j.agent_id = a.id AND j.status = 'running') AS running_jobs";

    public Task<long> CreateRegistrationTokenAsync(string tokenHash, string pool, bool preApproved, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO registration_tokens (token_hash, pool, pre_approved, created_at) VALUES (@tokenHash, @pool, @pre, @now) RETURNING id",
            new { tokenHash, pool, pre = preApproved ? 1 : 0, now }, tx));

    public Task RevokeRegistrationTokenAsync(string tokenHash, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE registration_tokens SET revoked_at = @now WHERE token_hash = @tokenHash AND revoked_at IS NULL", new { tokenHash, now }, tx));

    public Task<RegistrationTokenRow?> FindRegistrationTokenAsync(string tokenHash) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<RegistrationTokenRow>(
            "SELECT id, pool, pre_approved, revoked_at FROM registration_tokens WHERE token_hash = @tokenHash AND revoked_at IS NULL", new { tokenHash }));

    /// <summary>
    /// Registers an agent, or re-registers one of the same name (a reinstalled agent gets a fresh
    /// credential; the old one stops working). Returns the agent's id and status.
    /// </summary>
    public Task<(long Id, string Status)> RegisterAsync(string name, string pool, string labels, int slots, string credentialHash,
        bool preApproved, int protocolVersion, long now) =>
        db.WriteAsync<(long, string)>(async (c, tx) =>
        {
            var status = preApproved ? "approved" : "pending";
            var existing = await c.QuerySingleOrDefaultAsync<AgentRow>("SELECT id, status FROM agents WHERE name = @name", new { name }, tx);
            if (existing is not null)
            {
                // Re-registering a name takes over that agent's identity, so it needs the same trust as a new
                // agent: a pre-approved token or an admin's approval again. A disabled agent stays disabled.
                if (existing.Status == "disabled") status = "disabled";
                await c.ExecuteAsync(
                    "UPDATE agents SET pool = @pool, labels = @labels, slots = @slots, credential_hash = @credentialHash, status = @status, " +
                    "protocol_version = @protocolVersion, last_seen_at = @now WHERE id = @id",
                    new { pool, labels, slots, credentialHash, status, protocolVersion, now, id = existing.Id }, tx);
                return (existing.Id, status);
            }
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO agents (name, pool, labels, slots, credential_hash, status, protocol_version, created_at, last_seen_at) " +
                "VALUES (@name, @pool, @labels, @slots, @credentialHash, @status, @protocolVersion, @now, @now) RETURNING id",
                new { name, pool, labels, slots, credentialHash, status, protocolVersion, now }, tx);
            return (id, status);
        });

    public Task<AgentRow?> FindByCredentialAsync(string credentialHash) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<AgentRow>(
            "SELECT id, name, pool, labels, slots, status, protocol_version, created_at, last_seen_at FROM agents WHERE credential_hash = @credentialHash",
            new { credentialHash }));

    public Task<AgentRow?> FindAsync(string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<AgentRow>($"SELECT {Columns} FROM agents a WHERE a.name = @name", new { name }));

    public async Task<IReadOnlyList<AgentRow>> ListAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<AgentRow>($"SELECT {Columns} FROM agents a ORDER BY a.name"))).ToList();

    /// <summary>Moves an agent between pending/approved/disabled; returns false if there is no such agent.</summary>
    public Task<bool> SetStatusAsync(string name, string status) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("UPDATE agents SET status = @status WHERE name = @name", new { name, status }, tx) == 1);

    public Task TouchAsync(long agentId, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE agents SET last_seen_at = @now WHERE id = @agentId", new { agentId, now }, tx));
}
