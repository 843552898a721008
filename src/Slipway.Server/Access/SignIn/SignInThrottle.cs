using System.Collections.Concurrent;
using Slipway.Server.Hosting;

namespace Slipway.Server.Access.SignIn;

/// <summary>
/// Slows brute force: failed sign-ins are counted per account and per source address over a sliding
/// 15-minute window; once either count reaches its limit, further attempts are refused without checking the
/// password until the oldest failure leaves the window. Kept in memory (per server process): a restart
/// forgets it, which the audit log does not. Thread-safe.
/// </summary>
public sealed class SignInThrottle(ServerOptions options, TimeProvider clock)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    /// <summary>How long the caller must wait, or null if an attempt is allowed now.</summary>
    public TimeSpan? RetryAfter(string account, string address)
    {
        var now = clock.GetUtcNow();
        var a = Wait("account:" + account.ToLowerInvariant(), options.SignInFailuresPerAccount, now);
        var b = Wait("address:" + address, options.SignInFailuresPerAddress, now);
        return a is null ? b : b is null ? a : a > b ? a : b;
    }

    public void RecordFailure(string account, string address)
    {
        var now = clock.GetUtcNow();
        Add("account:" + account.ToLowerInvariant(), now);
        Add("address:" + address, now);
    }

    /// <summary>A successful sign-in clears the account's failures (not the address's).</summary>
    public void RecordSuccess(string account) => _failures.TryRemove("account:" + account.ToLowerInvariant(), out _);

    private void Add(string key, DateTimeOffset now)
    {
        var queue = _failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (queue)
        {
            queue.Enqueue(now);
            while (queue.Count > 1000) queue.Dequeue(); // bounded memory per key
        }
    }

    private TimeSpan? Wait(string key, int limit, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var queue)) return null;
        lock (queue)
        {
            while (queue.Count > 0 && now - queue.Peek() >= Window) queue.Dequeue();
            if (queue.Count < limit) return null;
            // The attempt that would bring the count under the limit becomes possible when enough old failures expire.
            var oldestThatMustExpire = queue.ElementAt(queue.Count - limit);
            return oldestThatMustExpire + Window - now;
        }
    }
}
