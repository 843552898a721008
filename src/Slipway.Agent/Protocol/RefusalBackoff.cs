namespace Slipway.Agent.Protocol;

/// <summary>
/// How long an agent waits after the server refused its polls (401: credential unknown, disabled or removed; 403: not
/// approved yet), shared by all its slots so N slots do not make N times the calls: the wait doubles from the first
/// delay up to a cap with every refusal, and starts again at the first success of a call made after the streak began (a
/// long-poll sent before the credential was revoked may still come back 204). Tells its caller when a refusal starts a
/// streak (log it once) and when a success ends one. Thread-safe.
/// </summary>
public sealed class RefusalBackoff(TimeSpan first, TimeSpan cap)
{
    public static readonly TimeSpan DefaultCap = TimeSpan.FromSeconds(30);
    private readonly Lock _lock = new();
    private TimeSpan _wait = TimeSpan.Zero;
    private long _streakBegan;

    /// <summary>A mark to take before a call and hand to <see cref="Accepted"/> when it succeeds.</summary>
    public static long Mark() => System.Diagnostics.Stopwatch.GetTimestamp();

    public TimeSpan Cap => cap;

    /// <summary>Records a refusal; returns how long to wait before the next call, and whether this refusal began a streak.</summary>
    public (TimeSpan Wait, bool NewStreak) Refused()
    {
        lock (_lock)
        {
            var newStreak = _wait == TimeSpan.Zero;
            if (newStreak) _streakBegan = Mark();
            _wait = newStreak ? first : TimeSpan.FromTicks(Math.Min(cap.Ticks, _wait.Ticks * 2));
            return (_wait, newStreak);
        }
    }

    /// <summary>Records a call the server accepted, made at <paramref name="sentAt"/> (<see cref="Mark"/>); true when it ended a streak of refusals.</summary>
    public bool Accepted(long sentAt)
    {
        lock (_lock)
        {
            if (_wait == TimeSpan.Zero || sentAt < _streakBegan) return false; // no streak, or a call older than it
            _wait = TimeSpan.Zero;
            return true;
        }
    }
}
