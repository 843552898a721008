using Cronos;

namespace Slipway.Core.Environments;

/// <summary>
/// A time when deployments to an environment are refused (except an emergency deployment by a holder of
/// <c>deploy.break-glass</c> with a reason). Recurring: starts at each occurrence of a five-field cron expression
/// in a time zone and lasts <see cref="Duration"/> ("no production deploys Friday 16:00 to Monday 08:00
/// Europe/Berlin" is <c>0 16 * * FRI</c>, 64 h, Europe/Berlin; daylight-saving shifts follow the zone). One-off: from
/// <see cref="From"/> to <see cref="To"/>. Pure: the current time is a parameter.
/// </summary>
public sealed record FreezeWindow(string Name, string? Cron, TimeSpan? Duration, string? TimeZone, DateTimeOffset? From, DateTimeOffset? To)
{
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(31);

    public bool IsRecurring => Cron is not null;

    /// <summary>Null when the window is well-formed, else why not.</summary>
    public string? Check()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100 || Name.Any(char.IsControl)) return "a freeze window needs a name of at most 100 characters";
        if (IsRecurring)
        {
            if (From is not null || To is not null) return "a freeze window is either recurring (cron, duration, time zone) or one-off (from, to), not both";
            try { CronExpression.Parse(Cron!); }
            catch (CronFormatException e) { return $"invalid cron expression '{Cron}': {e.Message}"; }
            if (Duration is not { } d || d <= TimeSpan.Zero || d > MaxDuration) return $"a recurring freeze window needs a duration of more than 0 and at most {MaxDuration.TotalDays:0} days";
            if (Zone() is null) return $"unknown time zone '{TimeZone}'; use an IANA name such as Europe/Berlin";
            return null;
        }
        if (From is null || To is null) return "a one-off freeze window needs from and to";
        return To <= From ? "a freeze window must end after it starts" : null;
    }

    /// <summary>The end of the freeze in force at <paramref name="now"/>, or null when it is not in force.</summary>
    public DateTimeOffset? ActiveUntil(DateTimeOffset now)
    {
        if (!IsRecurring) return From <= now && now < To ? To : null;
        var cron = CronExpression.Parse(Cron!);
        var zone = Zone() ?? throw new InvalidOperationException($"unknown time zone '{TimeZone}'");
        // The latest start at or before now within one duration: the freeze is on if it has not ended yet.
        var start = cron.GetNextOccurrence(now.ToUniversalTime().UtcDateTime - Duration!.Value, zone, inclusive: true);
        if (start is not { } s || s > now.UtcDateTime) return null;
        DateTimeOffset end = new DateTimeOffset(s, TimeSpan.Zero) + Duration.Value;
        return end > now ? end : null;
    }

    private TimeZoneInfo? Zone()
    {
        if (string.IsNullOrWhiteSpace(TimeZone)) return TimeZoneInfo.Utc;
        try { return TimeZoneInfo.FindSystemTimeZoneById(TimeZone); }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException) { return null; }
    }
}

/// <summary>Whether any freeze window is in force, and which.</summary>
public static class Freezes
{
    /// <summary>The first window in force at <paramref name="now"/> and when it ends, or null.</summary>
    public static (FreezeWindow Window, DateTimeOffset Until)? InForce(IEnumerable<FreezeWindow> windows, DateTimeOffset now)
    {
        foreach (var w in windows)
            if (w.ActiveUntil(now) is { } until) return (w, until);
        return null;
    }
}
