using Slipway.Core.Checks;

namespace Slipway.Core.Tests.Checks;

public class CheckScheduleTests
{
    private static readonly DateTimeOffset Created = new(2026, 3, 28, 10, 2, 30, TimeSpan.Zero);

    [Theory]
    [InlineData(null, null, "5m", null, null)] // due at once when it never ran
    [InlineData("10:04:00", null, "5m", null, "10:09:00")]
    [InlineData(null, "*/5 * * * *", null, null, "10:05:00")]
    [InlineData("10:05:00", "*/5 * * * *", null, null, "10:10:00")]
    [InlineData("10:05:00", "0 12 * * *", null, "Europe/Berlin", "11:00:00")] // noon in Berlin on the 28th: CET, UTC+1
    [InlineData("11:00:00", "0 12 * * *", null, "Europe/Berlin", "10:00:00+1d")] // the 29th is summer time: CEST, UTC+2
    public void NextDue_FollowsTheIntervalOrTheCronInItsZone(string? lastRun, string? cron, string? every, string? zone, string? expected)
    {
        var schedule = new CheckSchedule(every is null ? null : TimeSpan.FromMinutes(5), cron, zone);
        Assert.Null(schedule.Check());
        var last = lastRun is null ? (DateTimeOffset?)null : Created.Date.Add(TimeSpan.Parse(lastRun));
        var next = schedule.NextDue(Created, last);
        var want = expected is null ? Created : Created.Date.Add(TimeSpan.Parse(expected.Replace("+1d", ""))).AddDays(expected.EndsWith("+1d") ? 1 : 0);
        Assert.Equal(new DateTimeOffset(want.DateTime, TimeSpan.Zero), next);
    }

    [Fact]
    public void IsDue_OnlyOnceTheNextTimeHasCome()
    {
        var schedule = CheckSchedule.EveryInterval(TimeSpan.FromMinutes(5));
        Assert.True(schedule.IsDue(Created, null, Created));
        Assert.False(schedule.IsDue(Created, Created, Created.AddMinutes(4)));
        Assert.True(schedule.IsDue(Created, Created, Created.AddMinutes(5)));
    }

    [Theory]
    [InlineData(300, null, null, null)]
    [InlineData(null, "*/5 * * * *", "Europe/Berlin", null)]
    [InlineData(null, null, null, "exactly one")]
    [InlineData(300, "*/5 * * * *", null, "exactly one")]
    [InlineData(0, null, null, "'every' must be between")]
    [InlineData(172800, null, null, "'every' must be between")]
    [InlineData(300, null, "Europe/Berlin", "time zone applies to a cron schedule only")]
    [InlineData(null, "61 * * * *", null, "invalid cron expression")]
    [InlineData(null, "*/5 * * * *", "Mars/Olympus", "unknown time zone")]
    public void Check_NamesWhatIsWrong(int? everySeconds, string? cron, string? zone, string? error)
    {
        var message = new CheckSchedule(everySeconds is { } s ? TimeSpan.FromSeconds(s) : null, cron, zone).Check();
        if (error is null) Assert.Null(message);
        else Assert.Contains(error, message);
    }
}
