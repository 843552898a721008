using Dapper;

namespace Slipway.Server.Access;

/// <summary>
/// API tokens and web sessions, both stored as SHA-256 hashes of a random secret shown or set once.
/// A lookup only finds a credential that is unrevoked, unexpired and whose user is not disabled, so a
/// revocation or a disabled account takes effect on the very next request.
/// </summary>
public sealed class CredentialStore(SqlDatabase db)
{
    private const string UserColumns = "u.id, u.username, u.display_name, u.email, u.password_hash, u.disabled_at, u.created_at";

    public async Task<(UserRow User, ApiTokenRow Token)?> FindTokenAsync(string tokenHash, long now)
    {
        var rows = await db.ReadAsync(c => c.QueryAsync<UserRow, ApiTokenRow, (UserRow, ApiTokenRow)>(
            $"SELECT {UserColumns}, t.id, t.user_id, t.name, t.scope, t.created_at, t.expires_at, t.revoked_at " +
            "FROM api_tokens t JOIN users u ON u.id = t.user_id " +
            "WHERE t.token_hash = @tokenHash AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > @now) AND u.disabled_at IS NULL",
            (u, t) => (u, t), new { tokenHash, now }, splitOn: "id"));
        return rows.Select(r => ((UserRow, ApiTokenRow)?)r).FirstOrDefault();
    }

    /// <summary>
    /// Why a presented token (found by its hash) no longer authenticates: its expiry, revocation and whether its user is
    /// disabled; null when no token has that hash. Only ever asked about the token the caller sent.
    /// </summary>
    public Task<CredentialState?> TokenStateAsync(string tokenHash) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<CredentialState>(
            "SELECT t.expires_at, t.revoked_at, u.disabled_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = @tokenHash",
            new { tokenHash }));

    /// <summary>As <see cref="TokenStateAsync"/> for a web session (its expiry is always set).</summary>
    public Task<CredentialState?> SessionStateAsync(string sessionHash) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<CredentialState>(
            "SELECT s.expires_at, s.revoked_at, u.disabled_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_hash = @sessionHash",
            new { sessionHash }));

    /// <summary>Creates a token; null when the user already has an active token of that name.</summary>
    public Task<long?> CreateTokenAsync(long userId, string name, string tokenHash, long? expiresAt, string? scope, long now) =>
        db.WriteAsync<long?>(async (c, tx) =>
        {
            var taken = await c.ExecuteScalarAsync<long?>(
                "SELECT id FROM api_tokens WHERE user_id = @userId AND name = @name AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now)",
                new { userId, name, now }, tx);
            if (taken is not null) return null;
            return await c.ExecuteScalarAsync<long>(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at, scope) " +
                "VALUES (@userId, @name, @tokenHash, @now, @expiresAt, @scope) RETURNING id",
                new { userId, name, tokenHash, now, expiresAt, scope }, tx);
        });

    public async Task<IReadOnlyList<ApiTokenRow>> ListTokensAsync(long userId) =>
        (await db.ReadAsync(c => c.QueryAsync<ApiTokenRow>(
            "SELECT id, user_id, name, scope, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = @userId ORDER BY id DESC",
            new { userId }))).ToList();

    /// <summary>Revokes one of the user's tokens; false when there is no such active token.</summary>
    public Task<bool> RevokeTokenAsync(long userId, long tokenId, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE api_tokens SET revoked_at = @now WHERE id = @tokenId AND user_id = @userId AND revoked_at IS NULL",
            new { userId, tokenId, now }, tx) > 0);

    /// <param name="tokenId">The API token the session was opened with, if any: the session lives no longer than it.</param>
    public Task CreateSessionAsync(long userId, string sessionHash, string? source, long now, long expiresAt, long? tokenId = null) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO sessions (user_id, session_hash, source, created_at, expires_at, token_id) VALUES (@userId, @sessionHash, @source, @now, @expiresAt, @tokenId)",
            new { userId, sessionHash, source, now, expiresAt, tokenId }, tx));

    public Task<UserRow?> FindSessionUserAsync(string sessionHash, long now) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<UserRow>(
            $"SELECT {UserColumns} FROM sessions s JOIN users u ON u.id = s.user_id " +
            "WHERE s.session_hash = @sessionHash AND s.revoked_at IS NULL AND s.expires_at > @now AND u.disabled_at IS NULL " +
            "AND (s.token_id IS NULL OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.id = s.token_id AND t.revoked_at IS NULL " +
            "AND (t.expires_at IS NULL OR t.expires_at > @now)))",
            new { sessionHash, now }));

    public Task<bool> RevokeSessionAsync(string sessionHash, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE sessions SET revoked_at = @now WHERE session_hash = @sessionHash AND revoked_at IS NULL", new { sessionHash, now }, tx) > 0);
}

/// <summary>The state of a credential that was refused: when it expires or expired, when it was revoked, whether its user is disabled.</summary>
public sealed class CredentialState
{
    public long? ExpiresAt { get; set; }
    public long? RevokedAt { get; set; }
    public long? DisabledAt { get; set; }
}
