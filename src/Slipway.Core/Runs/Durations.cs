namespace Slipway.Core.Runs;

/// <summary>How long a run, stage or job took (or has taken so far), written for people: 0.4s, 12s, 3m 05s, 1h 02m.</summary>
public static class Durations
{
    /// <summary>Null when it never started; up to <paramref name="now"/> while it is still going.</summary>
    public static TimeSpan? Of(DateTimeOffset? started, DateTimeOffset? finished, DateTimeOffset now) =>
        started is { } s ? ((finished ?? now) - s) is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero : null;

    /// <summary>How long, written for people; null when it never started (the run page and `slipway run show`).</summary>
    public static string? Text(DateTimeOffset? started, DateTimeOffset? finished, DateTimeOffset now) =>
        Of(started, finished, now) is { } d ? Format(d) : null;

    public static string Format(TimeSpan duration) => duration switch
    {
        { TotalSeconds: < 10 } => $"{duration.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}s",
        { TotalMinutes: < 1 } => $"{(int)duration.TotalSeconds}s",
        { TotalHours: < 1 } => $"{(int)duration.TotalMinutes}m {duration.Seconds:00}s",
        _ => $"{(int)duration.TotalHours}h {duration.Minutes:00}m",
    };
}
