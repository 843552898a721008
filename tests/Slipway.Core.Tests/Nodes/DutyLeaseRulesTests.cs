using Slipway.Core.Nodes;

namespace Slipway.Core.Tests.Nodes;

public class DutyLeaseRulesTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);
    private const long Now = 1_000_000;

    public static TheoryData<string?, long, bool, DutyStep> Cases => new()
    {
        // holder, expires at (relative to now), draining → step
        { null, 5_000, false, DutyStep.Acquire },      // released: free whatever its old expiry
        { "b", -1, false, DutyStep.Acquire },          // another node's lease ran out: take it over
        { "b", 0, false, DutyStep.Acquire },           // ending exactly now counts as ended
        { "a", -1, false, DutyStep.Acquire },          // our own lease ran out (a long pause): taken again, with a new token
        { "b", 1, false, DutyStep.Standby },           // another node holds it, if only just
        { "a", 6_000, false, DutyStep.Keep },          // more than half left
        { "a", 5_000, false, DutyStep.Keep },          // exactly half left
        { "a", 4_999, false, DutyStep.Renew },         // past half
        { "a", 1, false, DutyStep.Renew },
        { "a", 6_000, true, DutyStep.Release },        // draining gives up what it holds
        { "b", 6_000, true, DutyStep.Standby },
        { null, 0, true, DutyStep.Standby },           // draining takes nothing, not even a free duty
        { "b", -1, true, DutyStep.Standby },
        { "a", -1, true, DutyStep.Standby },           // nothing left to give up
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide_FollowsTheLeaseRules(string? holder, long expiresIn, bool draining, DutyStep expected) =>
        Assert.Equal(expected, DutyLeaseRules.Decide(new DutyLease("polling", holder, 3, Now + expiresIn), "a", Now, Lease, draining));

    [Fact]
    public void Decide_ADutyNeverTaken_IsAcquired_UnlessDraining()
    {
        Assert.Equal(DutyStep.Acquire, DutyLeaseRules.Decide(null, "a", Now, Lease, draining: false));
        Assert.Equal(DutyStep.Standby, DutyLeaseRules.Decide(null, "a", Now, Lease, draining: true));
    }

    [Fact]
    public void Decide_ComparesHolderNamesExactly()
    {
        Assert.Equal(DutyStep.Standby, DutyLeaseRules.Decide(new DutyLease("polling", "A", 1, Now + 9_000), "a", Now, Lease, draining: false));
    }

    [Theory]
    [InlineData(2_000, true)]   // exactly the margin (a fifth of 10 s)
    [InlineData(1_999, false)]
    [InlineData(9_000, true)]
    [InlineData(0, false)]
    public void MayStartPass_OnlyWithTheSafetyMarginLeft(int remainingMs, bool expected) =>
        Assert.Equal(expected, DutyLeaseRules.MayStartPass(TimeSpan.FromMilliseconds(remainingMs), Lease));

    [Fact]
    public void ARenewedLease_StaysAboveTheMargin_BetweenLooks()
    {
        // Renewal at half-time, a look every fifth: the worst time left at a look is half minus one look, above the margin.
        var worst = Lease / 2 - DutyLeaseRules.LookInterval(Lease);
        Assert.True(DutyLeaseRules.MayStartPass(worst, Lease));
    }

    [Theory]
    [InlineData("node-1", true)]
    [InlineData("a.b_c-D9", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("has space", false)]
    [InlineData("slash/no", false)]
    [InlineData("ünïcode", false)]
    public void NodeNames_AllowOnlyTheSafeAlphabet(string? name, bool valid)
    {
        Assert.Equal(valid, NodeNames.IsValid(name));
        if (!valid) Assert.Throws<ArgumentException>(() => NodeNames.Check(name));
    }

    [Fact]
    public void NodeNames_AtMost55Characters_SoThatTheEmbeddedAgentsNameFitsIn64()
    {
        Assert.True(NodeNames.IsValid(new string('n', 55)));
        Assert.False(NodeNames.IsValid(new string('n', 56)));
        Assert.Equal(64, ("embedded-" + new string('n', NodeNames.MaxLength)).Length);
    }

    [Theory]
    [InlineData("build-01.example.org", "build-01.example.org")]
    [InlineData("host with spaces", "host-with-spaces")]
    [InlineData("", "slipway")]
    public void NodeNames_FromAHostName_AreValid(string host, string name)
    {
        Assert.Equal(name, NodeNames.FromHostName(host));
        Assert.Equal(NodeNames.MaxLength, NodeNames.FromHostName(new string('h', 63)).Length);
    }

    [Theory]
    [InlineData(15_000, null, true)]    // exactly three intervals of 5 s
    [InlineData(15_001, null, false)]
    [InlineData(0, null, true)]
    [InlineData(0, 1L, false)]          // stopped: not alive however fresh
    public void IsAlive_WithinThreeHeartbeats_AndNotStopped(long age, long? stoppedAt, bool alive) =>
        Assert.Equal(alive, NodeNames.IsAlive(Now - age, stoppedAt, Now, TimeSpan.FromSeconds(5)));
}
