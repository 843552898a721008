using Dapper;

namespace Slipway.Server.Access;

/// <summary>User accounts. Disabling a user revokes their sessions and API tokens in the same transaction.</summary>
public sealed class UserStore(SqlDatabase db)
{
    private const string Columns = "id, username, display_name, email, password_hash, disabled_at, created_at";

    public Task<bool> AnyUserAsync() => db.ReadAsync(async c => await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users") > 0);

    /// <summary>Creates the first admin with one token and a global admin grant, unless a user already exists (then false).</summary>
    public Task<bool> BootstrapAdminAsync(string username, string tokenHash, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users", transaction: tx) > 0) return false;
            var userId = await c.ExecuteScalarAsync<long>(
                "INSERT INTO users (username, display_name, is_admin, created_at) VALUES (@username, 'Administrator', 1, @now) RETURNING id",
                new { username, now }, tx);
            await c.ExecuteAsync("INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (@userId, 'initial-admin', @tokenHash, @now)",
                new { userId, tokenHash, now }, tx);
            await c.ExecuteAsync("INSERT INTO grants (user_id, role, granted_by, created_at) VALUES (@userId, 'admin', 'bootstrap', @now)",
                new { userId, now }, tx);
            return true;
        });

    /// <summary>Creates a user; null when the username is taken.</summary>
    public Task<UserRow?> CreateAsync(string username, string? displayName, string? email, string? passwordHash, long now) =>
        db.WriteAsync<UserRow?>(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<long?>("SELECT id FROM users WHERE username = @username", new { username }, tx) is not null) return null;
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO users (username, display_name, email, password_hash, is_admin, created_at) " +
                "VALUES (@username, @displayName, @email, @passwordHash, 0, @now) RETURNING id",
                new { username, displayName, email, passwordHash, now }, tx);
            return new UserRow { Id = id, Username = username, DisplayName = displayName, Email = email, PasswordHash = passwordHash, CreatedAt = now };
        });

    public Task<UserRow?> FindAsync(string username) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {Columns} FROM users WHERE username = @username", new { username }));

    public Task<UserRow?> GetAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {Columns} FROM users WHERE id = @id", new { id }));

    public async Task<IReadOnlyList<UserRow>> ListAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<UserRow>($"SELECT {Columns} FROM users ORDER BY username"))).ToList();

    /// <summary>
    /// Sets the password and ends every web session of the user except <paramref name="keepSessionHash"/> (the
    /// session that changed it), so a stolen session does not outlive a password change.
    /// </summary>
    public Task<bool> SetPasswordAsync(long id, string passwordHash, long now, string? keepSessionHash = null) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (await c.ExecuteAsync("UPDATE users SET password_hash = @passwordHash WHERE id = @id", new { id, passwordHash }, tx) == 0) return false;
            await c.ExecuteAsync(
                "UPDATE sessions SET revoked_at = @now WHERE user_id = @id AND revoked_at IS NULL AND session_hash <> COALESCE(@keepSessionHash, '')",
                new { id, now, keepSessionHash }, tx);
            return true;
        });

    /// <summary>
    /// Disables the user and, in the same transaction, revokes every session and API token: the next request
    /// with any of them is refused. False when the user was already disabled.
    /// </summary>
    public Task<bool> DisableAsync(long id, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (await c.ExecuteAsync("UPDATE users SET disabled_at = @now WHERE id = @id AND disabled_at IS NULL", new { id, now }, tx) == 0)
                return false;
            await c.ExecuteAsync("UPDATE sessions SET revoked_at = @now WHERE user_id = @id AND revoked_at IS NULL", new { id, now }, tx);
            await c.ExecuteAsync("UPDATE api_tokens SET revoked_at = @now WHERE user_id = @id AND revoked_at IS NULL", new { id, now }, tx);
            return true;
        });

    /// <summary>Enables a disabled user. Their old sessions and tokens stay revoked. False when not disabled.</summary>
    public Task<bool> EnableAsync(long id) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE users SET disabled_at = NULL WHERE id = @id AND disabled_at IS NOT NULL", new { id }, tx) > 0);
}
