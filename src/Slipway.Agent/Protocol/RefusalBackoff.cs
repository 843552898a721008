namespace Slipway.Agent.Protocol;

/// <summary>
/// How long an agent waits after the server refused its polls (401: credential unknown, disabled or removed; 403: not
/// approved yet), shared by all its slots so N slots do not make N times the calls: the wait doubles from the first
/// delay up to a cap with every refusal, and starts again at the first success. Tells its caller when a refusal starts a
/// streak (log it once) and when a success ends one. Thread-safe.
/// </summary>
public sealed class RefusalBackoff(TimeSpan first, TimeSpan cap)
{
    public static readonly TimeSpan DefaultCap = TimeSpan.FromSeconds(30);
    private readonly Lock _lock = new();
    private TimeSpan _wait = TimeSpan.Zero;

    public TimeSpan Cap => cap;

    /// <summary>Records a refusal; returns how long to wait before the next call, and whether this refusal began a streak.</summary>
    public (TimeSpan Wait, bool NewStreak) Refused()
    {
        lock (_lock)
        {
            var newStreak = _wait == TimeSpan.Zero;
            _wait = newStreak ? first : TimeSpan.FromTicks(Math.Min(cap.Ticks, _wait.Ticks * 2));
            return (_wait, newStreak);
        }
    }

    /// <summary>Records a call the server accepted; true when it ended a streak of refusals.</summary>
    public bool Accepted()
    {
        lock (_lock)
        {
            var ended = _wait != TimeSpan.Zero;
            _wait = TimeSpan.Zero;
            return ended;
        }
    }
}
