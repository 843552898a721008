using Slipway.Core.Nodes;

namespace Slipway.Core.Tests.Nodes;

public class NodeNameClaimRulesTests
{
    private static readonly TimeSpan Beat = TimeSpan.FromSeconds(5);
    private const long Now = 1_000_000;
    private const long Started = 500_000;

    private static NameRow Row(long heartbeatAt, long? stoppedAt = null, long startedAt = Started) => new(startedAt, heartbeatAt, stoppedAt);

    private static HeldNameStep When(NameRow? first, NameRow? now, long? holderSince, double waitedSeconds, long? holderActiveAt = null) =>
        NodeNameClaimRules.WhenHeld(first, now, holderSince, holderActiveAt, Now, Beat, TimeSpan.FromSeconds(waitedSeconds));

    [Fact]
    public void AHeartbeatThatMovesOn_IsAnotherLiveProcess_Refused() =>
        Assert.Equal(HeldNameStep.Refuse, When(Row(Now - 4000), Row(Now - 100), Started, 4));

    [Fact]
    public void ANewStartWrittenIntoTheRow_IsAnotherLiveProcess_Refused() =>
        Assert.Equal(HeldNameStep.Refuse, When(Row(Now - 20_000, stoppedAt: Now - 20_000), Row(Now - 100, startedAt: Now - 100), Now - 300, 0.5));

    [Fact]
    public void AFreshHeartbeatThatHasNotMovedYet_IsWatched() =>
        Assert.Equal(HeldNameStep.LookAgain, When(Row(Now - 2000), Row(Now - 2000), Started, 1));

    [Fact]
    public void ADeadRow_HeldByItsOwnOldSession_IsALingeringSession_StartAnyway()
    {
        Assert.Equal(HeldNameStep.StartAnyway, When(Row(Now - 15_001), Row(Now - 15_001), Started, 3));
        Assert.Equal(HeldNameStep.StartAnyway, When(Row(Now - 15_001), Row(Now - 15_001), null, 3)); // the database does not say
    }

    [Fact]
    public void ADeadRow_WhoseSessionStillRunsStatements_IsALiveNodeWithALateHeartbeat_NotStartedAnyway()
    {
        Assert.Equal(HeldNameStep.LookAgain, When(Row(Now - 16_000), Row(Now - 16_000), Started, 3, holderActiveAt: Now - 2000));
        Assert.Equal(HeldNameStep.StartAnyway, When(Row(Now - 16_000), Row(Now - 16_000), Started, 3, holderActiveAt: Now - 15_001));
    }

    [Fact]
    public void ADeadRow_HeldByANewerSession_IsAProcessStartingRightNow_WatchedThenRefused()
    {
        Assert.Equal(HeldNameStep.LookAgain, When(Row(Now - 60_000), Row(Now - 60_000), Now - 200, 1));
        Assert.Equal(HeldNameStep.Refuse, When(Row(Now - 60_000), Row(Now - 60_000), Now - 200, 15));
    }

    [Fact]
    public void AStoppedRow_HeldByItsOwnSession_IsOnItsWayOut_WaitedForOneHeartbeat()
    {
        // Its stop moved the heartbeat on: not a live process.
        Assert.Equal(HeldNameStep.LookAgain, When(Row(Now - 3000), Row(Now - 100, stoppedAt: Now - 100), Started, 1));
        Assert.Equal(HeldNameStep.StartAnyway, When(Row(Now - 3000), Row(Now - 100, stoppedAt: Now - 100), Started, 5));
    }

    [Fact]
    public void AStoppedRow_HeldByANewerSession_IsAnotherProcessStarting_NotStartedAnyway() =>
        Assert.Equal(HeldNameStep.LookAgain, When(Row(Now - 9000, stoppedAt: Now - 9000), Row(Now - 9000, stoppedAt: Now - 9000), Now - 100, 6));

    [Fact]
    public void NoRowAtAll_IsAProcessStartingRightNow_WatchedForOneAliveWindow_ThenRefused()
    {
        Assert.Equal(HeldNameStep.LookAgain, When(null, null, Now - 100, 14));
        Assert.Equal(HeldNameStep.Refuse, When(null, null, Now - 100, 15));
    }

    [Fact]
    public void ARowThatAppearsWhileWatching_IsWatchedFromItsFirstBeat() =>
        Assert.Equal(HeldNameStep.LookAgain, When(null, Row(Now - 10), Now - 500, 2)); // first seen without a row: watched by time
}
