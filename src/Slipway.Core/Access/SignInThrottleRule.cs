namespace Slipway.Core.Access;

/// <summary>
/// Slows brute force, apart from where the failures are kept: failed sign-ins are counted per key (an account, a source
/// address) over a sliding <see cref="Window"/>; once a key's count reaches its limit, further attempts wait until
/// enough of its oldest failures leave the window to bring the count under the limit.
/// </summary>
public static class SignInThrottleRule
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>How long an attempt under this key must wait, or null when it may go now.</summary>
    /// <param name="failures">The key's failures (unix ms), in any order; those out of the window count for nothing.</param>
    public static TimeSpan? Wait(IEnumerable<long> failures, int limit, long nowMs)
    {
        var window = (long)Window.TotalMilliseconds;
        var inWindow = failures.Where(at => nowMs - at < window).Order().ToList();
        if (inWindow.Count < Math.Max(1, limit)) return null;
        // The attempt that would bring the count under the limit becomes possible when enough old failures expire.
        var oldestThatMustExpire = inWindow[inWindow.Count - Math.Max(1, limit)];
        return TimeSpan.FromMilliseconds(oldestThatMustExpire + window - nowMs);
    }

    /// <summary>The longer of two waits (null: no wait).</summary>
    public static TimeSpan? Longer(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
