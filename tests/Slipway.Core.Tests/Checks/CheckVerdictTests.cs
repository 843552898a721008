using Slipway.Core.Checks;

namespace Slipway.Core.Tests.Checks;

public class CheckVerdictTests
{
    private static readonly DateTimeOffset Finished = new(2026, 3, 28, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Watch = TimeSpan.FromMinutes(15);

    private static WatchedDeployment Deployed(bool auto = true, bool isRollback = false, bool hasPrevious = true, bool handled = false) =>
        new(7, Finished, auto, isRollback, hasPrevious, handled);

    public static TheoryData<string, bool, bool?, WatchedDeployment?, int, CheckAction, string?, long?> Cases => new()
    {
        { "healthy stays quiet", true, true, Deployed(), 5, CheckAction.None, null, 7 },
        { "first result healthy", true, null, null, 5, CheckAction.None, null, null },
        { "recovery is told", true, false, Deployed(), 30, CheckAction.Alert, CheckVerdict.Recovered, null },
        { "inside window, rollback: auto", false, true, Deployed(), 5, CheckAction.RollBack, CheckVerdict.RolledBack, 7 },
        { "inside window even when already failing", false, false, Deployed(), 5, CheckAction.RollBack, CheckVerdict.RolledBack, 7 },
        { "inside window, manual rollback", false, true, Deployed(auto: false), 5, CheckAction.AskPerson, CheckVerdict.NeedsDecision, 7 },
        { "inside a rollback's window", false, true, Deployed(isRollback: true), 5, CheckAction.AskPerson, CheckVerdict.NeedsDecision, 7 },
        { "nothing to go back to", false, true, Deployed(hasPrevious: false), 5, CheckAction.AskPerson, CheckVerdict.NeedsDecision, 7 },
        { "window already acted on", false, true, Deployed(handled: true), 5, CheckAction.Alert, CheckVerdict.Failed, 7 },
        { "window acted on, still failing", false, false, Deployed(handled: true), 5, CheckAction.None, null, 7 },
        { "after the window", false, true, Deployed(), 15, CheckAction.Alert, CheckVerdict.Failed, null },
        { "after the window, still failing", false, false, Deployed(), 40, CheckAction.None, null, null },
        { "no deployment yet", false, null, null, 5, CheckAction.Alert, CheckVerdict.Failed, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Judge(string because, bool ok, bool? previousOk, WatchedDeployment? latest, int minutesAfter, CheckAction action, string? @event, long? inWindowOf)
    {
        var verdict = CheckVerdict.Judge(ok, previousOk, latest, Watch, Finished.AddMinutes(minutesAfter));
        Assert.True((action, @event, inWindowOf) == (verdict.Action, verdict.Event, verdict.InWindowOf), $"{because}: {verdict}");
    }

    [Fact]
    public void Judge_WithoutAWatchWindow_OnlyAlerts()
    {
        var verdict = CheckVerdict.Judge(false, true, Deployed(), TimeSpan.Zero, Finished);
        Assert.Equal((CheckAction.Alert, CheckVerdict.Failed, (long?)null), (verdict.Action, verdict.Event, verdict.InWindowOf));
    }
}
