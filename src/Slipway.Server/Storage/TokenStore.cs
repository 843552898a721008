using Dapper;

namespace Slipway.Server.Storage;

public sealed class UserRow
{
    public long Id { get; set; }
    public string Username { get; set; } = "";
    public long IsAdmin { get; set; }
}

/// <summary>Users and their API tokens (stored as SHA-256 hashes; the token itself is shown once).</summary>
public sealed class TokenStore(Database db)
{
    public Task<bool> AnyUserAsync() => db.ReadAsync(async c => await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users") > 0);

    /// <summary>Creates the first admin with one token, unless a user already exists (then returns false).</summary>
    public Task<bool> BootstrapAdminAsync(string username, string tokenHash, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users", transaction: tx) > 0) return false;
            var userId = await c.ExecuteScalarAsync<long>(
                "INSERT INTO users (username, is_admin, created_at) VALUES (@username, 1, @now) RETURNING id", new { username, now }, tx);
            await c.ExecuteAsync("INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (@userId, 'initial-admin', @tokenHash, @now)",
                new { userId, tokenHash, now }, tx);
            return true;
        });

    public Task<UserRow?> FindUserByTokenAsync(string tokenHash) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<UserRow>(
            "SELECT u.id, u.username, u.is_admin FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = @tokenHash AND t.revoked_at IS NULL",
            new { tokenHash }));

    public Task<long> CreateTokenAsync(long userId, string name, string tokenHash, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (@userId, @name, @tokenHash, @now) RETURNING id",
            new { userId, name, tokenHash, now }, tx));

    public Task<bool> RevokeTokenAsync(long userId, string name, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE api_tokens SET revoked_at = @now WHERE user_id = @userId AND name = @name AND revoked_at IS NULL",
            new { userId, name, now }, tx) > 0);
}
