using Slipway.Core.Nodes;

namespace Slipway.Core.Tests.Nodes;

public class NodeNameClaimRulesTests
{
    private static readonly TimeSpan Beat = TimeSpan.FromSeconds(5);
    private const long Now = 1_000_000;

    [Fact]
    public void AHeartbeatThatMovesOn_IsAnotherLiveProcess_Refused() =>
        Assert.Equal(HeldNameStep.Refuse, NodeNameClaimRules.WhenHeld(Now - 4000, Now - 100, null, Now, Beat, TimeSpan.FromSeconds(4)));

    [Fact]
    public void AFreshHeartbeatThatHasNotMovedYet_IsWatched() =>
        Assert.Equal(HeldNameStep.LookAgain, NodeNameClaimRules.WhenHeld(Now - 2000, Now - 2000, null, Now, Beat, TimeSpan.FromSeconds(1)));

    [Fact]
    public void AHeartbeatThatWentDeadWithoutMoving_IsALingeringSession_StartAnyway()
    {
        Assert.Equal(HeldNameStep.StartAnyway, NodeNameClaimRules.WhenHeld(Now - 15_001, Now - 15_001, null, Now, Beat, TimeSpan.FromSeconds(3)));
        Assert.Equal(HeldNameStep.StartAnyway, NodeNameClaimRules.WhenHeld(Now - 100, Now - 100, Now - 50, Now, Beat, TimeSpan.Zero)); // stopped
    }

    [Fact]
    public void NoRowAtAll_IsAProcessStartingRightNow_WatchedForOneAliveWindow_ThenRefused()
    {
        Assert.Equal(HeldNameStep.LookAgain, NodeNameClaimRules.WhenHeld(null, null, null, Now, Beat, TimeSpan.FromSeconds(14)));
        Assert.Equal(HeldNameStep.Refuse, NodeNameClaimRules.WhenHeld(null, null, null, Now, Beat, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void ARowThatAppearsWhileWatching_IsWatchedFromItsFirstBeat() =>
        // first seen when the row appeared (not moved since): still watched, not refused
        Assert.Equal(HeldNameStep.LookAgain, NodeNameClaimRules.WhenHeld(Now - 10, Now - 10, null, Now, Beat, TimeSpan.FromSeconds(2)));
}
