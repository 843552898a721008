using Dapper;

namespace Slipway.Server.Agents;

/// <summary>
/// Agents, their credentials (hashed) and the registration tokens that admit them. An agent's name is bound to its
/// credential: a registration never takes over a name in use, except with a token bound to that very name (the embedded
/// agent's). A removed agent keeps its row, renamed "NAME (removed #ID)" with status <c>removed</c> and no usable
/// credential, so the jobs it ran still name it while the name is free again.
/// </summary>
public sealed class AgentStore(SqlDatabase db)
{
    private const string Columns =
        "a.id, a.name, a.pool, a.labels, a.slots, a.status, a.protocol_version, a.created_at, a.last_seen_at, a.node_target, " +
        "(SELECT COUNT(*) FROM jobs j WHERE j.agent_id = a.id AND j.status = 'running') AS running_jobs";

    public const string Removed = "removed";

    /// <summary>
    /// A registration token is in force while it is neither revoked nor expired: the condition on <c>registration_tokens</c>
    /// with the parameter <c>@now</c>.
    /// </summary>
    private const string InForce = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now)";

    private const string TokenColumns = "id, pool, pre_approved, created_at, revoked_at, expires_at, agent_name";

    /// <param name="agentName">Binds the token to this agent name: it registers only that name, and may take it over.</param>
    /// <param name="expiresAt">When it stops admitting agents (unix ms); null: never.</param>
    public Task<long> CreateRegistrationTokenAsync(string tokenHash, string pool, bool preApproved, long now, string? agentName = null, long? expiresAt = null) =>
        db.WriteAsync((c, tx) => InsertRegistrationTokenAsync(c, tx, tokenHash, pool, preApproved, now, agentName, expiresAt));

    /// <summary>
    /// As <see cref="CreateRegistrationTokenAsync"/>, but only while <paramref name="newestSeen"/> is still the newest
    /// registration token's id (<see cref="NewestRegistrationTokenIdAsync"/>); null, and nothing made, once a newer one
    /// exists. Ids only grow (no token row is ever deleted; a new id is above every id handed out before), so a form that
    /// carries the id it was shown with mints at most one token: sent again, it finds its own token newer. Check and insert
    /// are one transaction, under a lock on PostgreSQL (SQLite's writes are serial anyway), so two sends at once mint one.
    /// </summary>
    public Task<long?> CreateRegistrationTokenAfterAsync(long newestSeen, string tokenHash, string pool, bool preApproved, long now, string? agentName = null,
        long? expiresAt = null) =>
        db.WriteAsync<long?>(async (c, tx) =>
        {
            await DatabaseLocks.InTransactionAsync(db, c, tx, "registration-tokens");
            if (await c.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(id), 0) FROM registration_tokens", transaction: tx) != newestSeen) return null;
            return await InsertRegistrationTokenAsync(c, tx, tokenHash, pool, preApproved, now, agentName, expiresAt);
        });

    /// <summary>The id of the newest registration token, 0 when there is none.</summary>
    public Task<long> NewestRegistrationTokenIdAsync() =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(id), 0) FROM registration_tokens"));

    private static Task<long> InsertRegistrationTokenAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx,
        string tokenHash, string pool, bool preApproved, long now, string? agentName, long? expiresAt) =>
        c.ExecuteScalarAsync<long>(
            "INSERT INTO registration_tokens (token_hash, pool, pre_approved, created_at, agent_name, expires_at) " +
            "VALUES (@tokenHash, @pool, @pre, @now, @agentName, @expiresAt) RETURNING id",
            new { tokenHash, pool, pre = preApproved ? 1 : 0, now, agentName, expiresAt }, tx);

    /// <summary>
    /// The registration tokens still in force at <paramref name="now"/> and the <paramref name="revokedShown"/> newest revoked
    /// or expired ones, newest first (no values: only their hashes are kept). Every server start makes and revokes one for its
    /// embedded agent, so the revoked ones are many.
    /// </summary>
    public async Task<IReadOnlyList<RegistrationTokenRow>> ListRegistrationTokensAsync(long now, int revokedShown = 20) =>
        (await db.ReadAsync(c => c.QueryAsync<RegistrationTokenRow>(
            $"SELECT * FROM (SELECT {TokenColumns} FROM registration_tokens WHERE {InForce} " +
            $"UNION ALL SELECT * FROM (SELECT {TokenColumns} FROM registration_tokens " +
            $"WHERE NOT ({InForce}) ORDER BY id DESC LIMIT @revokedShown) r) t ORDER BY id DESC", new { now, revokedShown }))).ToList();

    public Task<RegistrationTokenRow?> GetRegistrationTokenAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<RegistrationTokenRow>(
            $"SELECT {TokenColumns} FROM registration_tokens WHERE id = @id", new { id }));

    /// <summary>Revokes a token by its id; false when there is none such or it was revoked already.</summary>
    public async Task<bool> RevokeRegistrationTokenAsync(long id, long now) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE registration_tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", new { id, now }, tx)) == 1;

    public Task RevokeRegistrationTokenAsync(string tokenHash, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE registration_tokens SET revoked_at = @now WHERE token_hash = @tokenHash AND revoked_at IS NULL", new { tokenHash, now }, tx));

    /// <summary>The registration token with this hash, in force or not (to say why it was refused); null when there is none.</summary>
    public Task<RegistrationTokenRow?> RegistrationTokenStateAsync(string tokenHash) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<RegistrationTokenRow>(
            $"SELECT {TokenColumns} FROM registration_tokens WHERE token_hash = @tokenHash", new { tokenHash }));

    /// <summary>The registration token with this hash while it is in force at <paramref name="now"/> (not revoked, not expired).</summary>
    public Task<RegistrationTokenRow?> FindRegistrationTokenAsync(string tokenHash, long now) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<RegistrationTokenRow>(
            $"SELECT {TokenColumns} FROM registration_tokens WHERE token_hash = @tokenHash AND {InForce}", new { tokenHash, now }));

    /// <summary>
    /// Registers a new agent. A name in use is refused (<see cref="AgentNameTakenException"/>), even when two
    /// registrations race, unless <paramref name="takeOver"/> (a token bound to this name): then the agent gets the fresh
    /// credential (the old one stops working), pool, labels and slots, and is approved only with a pre-approved token;
    /// a disabled agent stays disabled. Returns the agent's id and status.
    /// </summary>
    /// <param name="registrationTokenId">The token registering it, checked again inside the write: a registration
    /// authenticated just before an admin revoked its token (or just before it expired) does not go through after that (RevokedTokenException).</param>
    public Task<(long Id, string Status)> RegisterAsync(string name, string pool, string labels, int slots, string credentialHash,
        bool preApproved, int protocolVersion, long now, bool takeOver = false, string? nodeTarget = null, long? registrationTokenId = null) =>
        db.WriteAsync<(long, string)>(async (c, tx) =>
        {
            if (registrationTokenId is { } tokenId && await c.ExecuteScalarAsync<long?>(
                    $"SELECT id FROM registration_tokens WHERE id = @tokenId AND {InForce}" + (db.Dialect == SqlDialect.Postgres ? " FOR UPDATE" : ""),
                    new { tokenId, now }, tx) is null)
                throw new RevokedTokenException();
            var status = preApproved ? "approved" : "pending";
            var existing = await c.QuerySingleOrDefaultAsync<AgentRow>("SELECT id, status FROM agents WHERE name = @name", new { name }, tx);
            if (existing is not null)
            {
                if (!takeOver) throw new AgentNameTakenException(name);
                if (existing.Status == "disabled") status = "disabled";
                await c.ExecuteAsync(
                    "UPDATE agents SET pool = @pool, labels = @labels, slots = @slots, credential_hash = @credentialHash, status = @status, " +
                    "protocol_version = @protocolVersion, last_seen_at = @now, node_target = @nodeTarget WHERE id = @id",
                    new { pool, labels, slots, credentialHash, status, protocolVersion, now, nodeTarget, id = existing.Id }, tx);
                return (existing.Id, status);
            }
            // Two registrations of one new name at once: the unique name decides, the loser is refused like any other.
            var id = await c.ExecuteScalarAsync<long?>(
                "INSERT INTO agents (name, pool, labels, slots, credential_hash, status, protocol_version, created_at, last_seen_at, node_target) " +
                "VALUES (@name, @pool, @labels, @slots, @credentialHash, @status, @protocolVersion, @now, @now, @nodeTarget) ON CONFLICT (name) DO NOTHING RETURNING id",
                new { name, pool, labels, slots, credentialHash, status, protocolVersion, now, nodeTarget }, tx);
            return (id ?? throw new AgentNameTakenException(name), status);
        });

    /// <summary>
    /// Removes an agent: its credential stops working at once and its name is free for a new registration. Refused while it
    /// runs jobs (the count is returned); null when there is no such agent.
    /// </summary>
    public Task<(bool Removed, long RunningJobs)?> RemoveAsync(string name) =>
        db.WriteAsync<(bool, long)?>(async (c, tx) =>
        {
            var agent = await c.QuerySingleOrDefaultAsync<AgentRow>($"SELECT {Columns} FROM agents a WHERE a.name = @name AND a.status <> '{Removed}'", new { name }, tx);
            if (agent is null) return null;
            if (agent.RunningJobs > 0) return (false, agent.RunningJobs);
            // Conditional on no running job, so a job claimed meanwhile keeps its agent (the caller is told to try again).
            var changed = await c.ExecuteAsync(
                $"UPDATE agents SET name = @renamed, status = '{Removed}', credential_hash = @unusable WHERE id = @id " +
                "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.agent_id = @id AND j.status = 'running')",
                new { id = agent.Id, renamed = $"{name} (removed #{agent.Id})", unusable = $"removed:{agent.Id}" }, tx);
            return changed == 1 ? (true, 0) : (false, 1);
        });

    public Task<AgentRow?> FindByCredentialAsync(string credentialHash) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<AgentRow>(
            "SELECT id, name, pool, labels, slots, status, protocol_version, created_at, last_seen_at, node_target FROM agents WHERE credential_hash = @credentialHash",
            new { credentialHash }));

    public Task<AgentRow?> FindAsync(string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<AgentRow>($"SELECT {Columns} FROM agents a WHERE a.name = @name AND a.status <> '{Removed}'", new { name }));

    public async Task<IReadOnlyList<AgentRow>> ListAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<AgentRow>($"SELECT {Columns} FROM agents a WHERE a.status <> '{Removed}' ORDER BY a.name"))).ToList();

    /// <summary>Moves an agent between pending/approved/disabled; returns false if there is no such agent.</summary>
    public Task<bool> SetStatusAsync(string name, string status) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync($"UPDATE agents SET status = @status WHERE name = @name AND status <> '{Removed}'", new { name, status }, tx) == 1);

    public Task TouchAsync(long agentId, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE agents SET last_seen_at = @now WHERE id = @agentId", new { agentId, now }, tx));
}

/// <summary>A registration named an agent that exists; only an admin's removal frees the name.</summary>
public sealed class AgentNameTakenException(string name)
    : Exception($"an agent named '{name}' is already registered, and an agent's name is bound to its credential: choose another name, " +
                $"or have an admin remove the old agent first (slipway agent remove {name})")
{
    public string Name { get; } = name;
}

/// <summary>The registration token was revoked, or expired, between the request's authentication and its write.</summary>
public sealed class RevokedTokenException() : Exception("the registration token was revoked or expired");
