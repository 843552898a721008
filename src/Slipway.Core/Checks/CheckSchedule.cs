using Cronos;
using Slipway.Core.Pipelines;

namespace Slipway.Core.Checks;

/// <summary>
/// When a live check runs: every fixed interval (<c>every: 5m</c>) or at each occurrence of a five-field cron expression
/// in a time zone (daylight-saving shifts follow the zone). Pure: times are parameters, nothing is read from a clock.
/// </summary>
public sealed record CheckSchedule(TimeSpan? Every, string? Cron, string? TimeZone)
{
    /// <summary>The shortest interval: a check faster than this would be a load test, not a health check.</summary>
    public static readonly TimeSpan MinEvery = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxEvery = TimeSpan.FromDays(1);

    public static CheckSchedule EveryInterval(TimeSpan every) => new(every, null, null);

    /// <summary>Null when the schedule is well-formed, else why not.</summary>
    public string? Check()
    {
        if ((Every is null) == (Cron is null)) return "a check runs either every interval (every: 5m) or by a cron expression, exactly one of them";
        if (Every is { } every)
        {
            if (TimeZone is not null) return "a time zone applies to a cron schedule only";
            return every < MinEvery || every > MaxEvery ? $"'every' must be between {Durations.Format(MinEvery)} and {Durations.Format(MaxEvery)}" : null;
        }
        try { CronExpression.Parse(Cron!); }
        catch (CronFormatException e) { return $"invalid cron expression '{Cron}': {e.Message}"; }
        return Zone() is null ? $"unknown time zone '{TimeZone}'; use an IANA name such as Europe/Berlin" : null;
    }

    /// <summary>
    /// When the check is due next. Never run: due at once (an interval check) or at the first cron occurrence after it
    /// was created. Else one interval after the last run, or the first cron occurrence after it. Null: the cron
    /// expression never fires again.
    /// </summary>
    public DateTimeOffset? NextDue(DateTimeOffset createdAt, DateTimeOffset? lastRunAt)
    {
        if (Every is { } every) return lastRunAt is { } last ? last + every : createdAt;
        var zone = Zone() ?? throw new InvalidOperationException($"unknown time zone '{TimeZone}'");
        var next = CronExpression.Parse(Cron!).GetNextOccurrence((lastRunAt ?? createdAt).UtcDateTime, zone, inclusive: false);
        return next is { } n ? new DateTimeOffset(n, TimeSpan.Zero) : null;
    }

    public bool IsDue(DateTimeOffset createdAt, DateTimeOffset? lastRunAt, DateTimeOffset now) => NextDue(createdAt, lastRunAt) is { } due && due <= now;

    public string Describe() => Every is { } every ? $"every {Durations.Format(every)}" : $"cron '{Cron}' {TimeZone ?? "UTC"}";

    private TimeZoneInfo? Zone()
    {
        if (string.IsNullOrWhiteSpace(TimeZone)) return TimeZoneInfo.Utc;
        try { return TimeZoneInfo.FindSystemTimeZoneById(TimeZone); }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException) { return null; }
    }
}
