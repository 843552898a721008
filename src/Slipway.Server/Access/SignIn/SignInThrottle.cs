using System.Data.Common;
using Dapper;
using Slipway.Core.Access;

namespace Slipway.Server.Access.SignIn;

/// <summary>
/// Slows brute force (<see cref="SignInThrottleRule"/>): failed sign-ins per account and per source address within 15
/// minutes, kept in the database (sign_in_failures), so every server node counts the same failures and a restart forgets
/// none of them: an attacker gets no more guesses from a balancer spreading them over several nodes.
/// <see cref="TryBeginAsync"/> checks and counts an attempt in one transaction under a lock per key (a PostgreSQL
/// transaction advisory lock; SQLite has one writer at a time), so parallel guesses, through one node or several, cannot
/// all pass the check before any of them is counted. Times are this node's clock (nodes keep theirs in step with NTP).
/// </summary>
public sealed class SignInThrottle(SqlDatabase db, ServerOptions options, TimeProvider clock)
{
    public static readonly TimeSpan Window = SignInThrottleRule.Window;

    /// <summary>Keys are cut to this length: an account name is what the attacker typed, checked only after this.</summary>
    private const int KeyLength = 200;

    private static string AccountKey(string account) => Cut("account:" + account.ToLowerInvariant());
    private static string AddressKey(string address) => Cut("address:" + address);
    private static string Cut(string key) => key.Length <= KeyLength ? key : key[..KeyLength];
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>How long the caller must wait, or null if an attempt is allowed now.</summary>
    public Task<TimeSpan?> RetryAfterAsync(string account, string address) =>
        db.ReadAsync(c => WaitAsync(c, null, AccountKey(account), AddressKey(address), Now));

    /// <summary>
    /// Starts an attempt: null if allowed (the attempt is then already counted as a failure, until
    /// <see cref="SucceededAsync"/> says otherwise), else how long the caller must wait.
    /// </summary>
    public Task<TimeSpan?> TryBeginAsync(string account, string address) => db.WriteAsync(async (c, tx) =>
    {
        var (accountKey, addressKey) = (AccountKey(account), AddressKey(address));
        if (db.Dialect == SqlDialect.Postgres)
            foreach (var key in new[] { accountKey, addressKey }.Order(StringComparer.Ordinal)) // one order: no deadlock
                await c.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = DatabaseLocks.KeyOf("sign-in:" + key) }, tx);
        var now = Now;
        if (await WaitAsync(c, tx, accountKey, addressKey, now) is { } wait) return wait;
        await InsertAsync(c, tx, accountKey, addressKey, now);
        // Forget what left the window, everyone's: the table holds at most 15 minutes of failures.
        await c.ExecuteAsync("DELETE FROM sign_in_failures WHERE at <= @cutoff", new { cutoff = now - (long)Window.TotalMilliseconds }, tx);
        return (TimeSpan?)null;
    });

    /// <summary>The attempt begun with <see cref="TryBeginAsync"/> succeeded: clear the account, uncount it for the address.</summary>
    public Task SucceededAsync(string account, string address) => db.WriteAsync(async (c, tx) =>
    {
        await c.ExecuteAsync("DELETE FROM sign_in_failures WHERE subject = @key", new { key = AccountKey(account) }, tx);
        await c.ExecuteAsync("DELETE FROM sign_in_failures WHERE id = (SELECT MAX(id) FROM sign_in_failures WHERE subject = @key)",
            new { key = AddressKey(address) }, tx);
    });

    /// <summary>Counts a failure without an attempt (what <see cref="TryBeginAsync"/> does once allowed).</summary>
    public Task RecordFailureAsync(string account, string address) =>
        db.WriteAsync((c, tx) => InsertAsync(c, tx, AccountKey(account), AddressKey(address), Now));

    /// <summary>A successful sign-in clears the account's failures (not the address's).</summary>
    public Task RecordSuccessAsync(string account) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("DELETE FROM sign_in_failures WHERE subject = @key", new { key = AccountKey(account) }, tx));

    private async Task<TimeSpan?> WaitAsync(DbConnection c, DbTransaction? tx, string accountKey, string addressKey, long now)
    {
        var since = now - (long)Window.TotalMilliseconds;
        var failures = (await c.QueryAsync<(string Key, long At)>(
            "SELECT subject, at FROM sign_in_failures WHERE subject IN (@accountKey, @addressKey) AND at > @since",
            new { accountKey, addressKey, since }, tx)).ToList();
        return SignInThrottleRule.Longer(
            SignInThrottleRule.Wait(failures.Where(f => f.Key == accountKey).Select(f => f.At), options.SignInFailuresPerAccount, now),
            SignInThrottleRule.Wait(failures.Where(f => f.Key == addressKey).Select(f => f.At), options.SignInFailuresPerAddress, now));
    }

    private static Task InsertAsync(DbConnection c, DbTransaction tx, string accountKey, string addressKey, long now) =>
        c.ExecuteAsync("INSERT INTO sign_in_failures (subject, at) VALUES (@accountKey, @now), (@addressKey, @now)", new { accountKey, addressKey, now }, tx);
}
