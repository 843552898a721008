using System.Collections.Concurrent;

namespace Slipway.Server.Access.SignIn;

/// <summary>
/// Slows brute force: failed sign-ins are counted per account and per source address over a sliding
/// 15-minute window; once either count reaches its limit, further attempts are refused without checking the
/// password until the oldest failure leaves the window. Kept in memory (per server process): a restart
/// forgets it, which the audit log does not. Thread-safe: <see cref="TryBegin"/> checks and counts an attempt
/// in one step, so parallel guesses cannot all pass the check before any of them is counted.
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

    private readonly object _attempts = new();

    /// <summary>
    /// Starts an attempt: null if allowed (the attempt is then already counted as a failure, until
    /// <see cref="Succeeded"/> says otherwise), else how long the caller must wait.
    /// </summary>
    public TimeSpan? TryBegin(string account, string address)
    {
        lock (_attempts)
        {
            if (RetryAfter(account, address) is { } wait) return wait;
            RecordFailure(account, address);
            return null;
        }
    }

    /// <summary>The attempt begun with <see cref="TryBegin"/> succeeded: clear the account, uncount it for the address.</summary>
    public void Succeeded(string account, string address)
    {
        RecordSuccess(account);
        if (_failures.TryGetValue("address:" + address, out var queue))
            lock (queue)
                if (queue.Count > 0)
                {
                    var kept = queue.ToArray()[..^1];
                    queue.Clear();
                    foreach (var at in kept) queue.Enqueue(at);
                }
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
