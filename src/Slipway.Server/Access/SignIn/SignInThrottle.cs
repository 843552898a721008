using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Slipway.Core.Access;

namespace Slipway.Server.Access.SignIn;

/// <summary>
/// Slows brute force (<see cref="SignInThrottleRule"/>): failed sign-ins per account (or, for the web UI's token sign-in,
/// per address's token attempts) and per source address within 15 minutes, kept in the database (sign_in_failures), so
/// every server node counts the same failures and a restart forgets none of them: an attacker gets no more guesses from
/// a balancer spreading them over several nodes.
/// <list type="bullet">
/// <item>A refused attempt only reads the count (its audit entry is written in the audit log's batches).</item>
/// <item><see cref="TryBeginTokenAsync"/>/<see cref="TryBeginAsync"/> check again and count the attempt in one
/// transaction under a lock per key (a PostgreSQL transaction advisory lock, tried, never waited for: an attempt that finds
/// it taken is told to retry in a second; SQLite has one writer at a time), so parallel guesses, through one node or
/// several, cannot all pass before any of them is counted.</item>
/// <item>Times are this node's clock (the nodes keep theirs in step with NTP); what is pruned is older than the window
/// by an hour more, so a node whose clock runs ahead never deletes failures still in the others' window.</item>
/// </list>
/// </summary>
public sealed class SignInThrottle(SqlDatabase db, ServerOptions options, TimeProvider clock)
{
    public static readonly TimeSpan Window = SignInThrottleRule.Window;
    private static readonly TimeSpan PruneAfter = Window + TimeSpan.FromHours(1);
    /// <summary>The wait told to an attempt that found another attempt on its account or address under way.</summary>
    public static readonly TimeSpan Busy = TimeSpan.FromSeconds(1);

    private static string AccountKey(string account) => Key("account:", account.ToLowerInvariant());
    private static string AddressKey(string address) => Key("address:", address);
    // Its own kind: no username typed into the form can reach it (a user named "token:..." is "account:token:...").
    private static string TokenKey(string address) => Key("token:", address);

    /// <summary>The kind and the value; a value past 100 characters (only an attacker's: usernames have at most 64) as its hash.</summary>
    private static string Key(string kind, string value) =>
        kind + (value.Length <= 100 ? value : "#" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value))));

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>How long the caller must wait, or null if an attempt is allowed now.</summary>
    public Task<TimeSpan?> RetryAfterAsync(string account, string address) => WaitAsync(AccountKey(account), AddressKey(address));

    /// <summary>
    /// Starts a password attempt: null if allowed (the attempt is then already counted as a failure, until
    /// <see cref="SucceededAsync"/> says otherwise), else how long the caller must wait.
    /// </summary>
    public Task<TimeSpan?> TryBeginAsync(string account, string address) => TryBeginKeysAsync(AccountKey(account), AddressKey(address));

    /// <summary>Starts a token attempt of the web UI's sign-in form, counted per address apart from any account.</summary>
    public Task<TimeSpan?> TryBeginTokenAsync(string address) => TryBeginKeysAsync(TokenKey(address), AddressKey(address));

    /// <summary>The attempt begun with <see cref="TryBeginAsync"/> succeeded: clear the account, uncount it for the address.</summary>
    public Task SucceededAsync(string account, string address) => SucceededKeysAsync(AccountKey(account), AddressKey(address));

    /// <summary>The attempt begun with <see cref="TryBeginTokenAsync"/> succeeded.</summary>
    public Task SucceededTokenAsync(string address) => SucceededKeysAsync(TokenKey(address), AddressKey(address));

    /// <summary>Counts a failure without an attempt (what <see cref="TryBeginAsync"/> does once allowed).</summary>
    public Task RecordFailureAsync(string account, string address) =>
        db.WriteAsync((c, tx) => InsertAsync(c, tx, AccountKey(account), AddressKey(address), Now));

    /// <summary>Clears an account's failures: a successful sign-in, or an admin who set its password or enabled it again.</summary>
    public Task RecordSuccessAsync(string account) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("DELETE FROM sign_in_failures WHERE subject = @key", new { key = AccountKey(account) }, tx));

    private async Task<TimeSpan?> TryBeginKeysAsync(string first, string second)
    {
        // A refusal reads only: no write, no lock, whatever the rate.
        if (await WaitAsync(first, second) is { } refused) return refused;
        return await db.WriteAsync(async (c, tx) =>
        {
            // Never waited for: a crowd of attempts on one key must not queue on pooled connections (the node's heartbeats, leases
            // and claims share them). Whoever finds a key busy is told to retry in a second, as throttled.
            if (db.Dialect == SqlDialect.Postgres)
                foreach (var key in new[] { first, second })
                    if (!await c.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_xact_lock(@key)", new { key = DatabaseLocks.KeyOf("sign-in:" + key) }, tx))
                        return Busy;
            var now = Now;
            if (await WaitAsync(c, tx, first, second, now) is { } wait) return wait; // others counted meanwhile
            await InsertAsync(c, tx, first, second, now);
            await c.ExecuteAsync("DELETE FROM sign_in_failures WHERE at <= @cutoff", new { cutoff = now - (long)PruneAfter.TotalMilliseconds }, tx);
            return (TimeSpan?)null;
        });
    }

    private Task SucceededKeysAsync(string first, string address) => db.WriteAsync(async (c, tx) =>
    {
        await c.ExecuteAsync("DELETE FROM sign_in_failures WHERE subject = @key", new { key = first }, tx);
        await c.ExecuteAsync("DELETE FROM sign_in_failures WHERE id = (SELECT MAX(id) FROM sign_in_failures WHERE subject = @key)", new { key = address }, tx);
    });

    private Task<TimeSpan?> WaitAsync(string first, string address) => db.ReadAsync(c => WaitAsync(c, null, first, address, Now));

    private async Task<TimeSpan?> WaitAsync(DbConnection c, DbTransaction? tx, string first, string address, long now)
    {
        var since = now - (long)Window.TotalMilliseconds;
        var failures = (await c.QueryAsync<(string Key, long At)>(
            "SELECT subject, at FROM sign_in_failures WHERE subject IN (@first, @address) AND at > @since",
            new { first, address, since }, tx)).ToList();
        return SignInThrottleRule.Longer(
            SignInThrottleRule.Wait(failures.Where(f => f.Key == first).Select(f => f.At), options.SignInFailuresPerAccount, now),
            SignInThrottleRule.Wait(failures.Where(f => f.Key == address).Select(f => f.At), options.SignInFailuresPerAddress, now));
    }

    private static Task InsertAsync(DbConnection c, DbTransaction tx, string first, string address, long now) =>
        c.ExecuteAsync("INSERT INTO sign_in_failures (subject, at) VALUES (@first, @now), (@address, @now)", new { first, address, now }, tx);
}
