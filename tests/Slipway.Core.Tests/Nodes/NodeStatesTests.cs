using Slipway.Core.Nodes;

namespace Slipway.Core.Tests.Nodes;

public class NodeStatesTests
{
    public static TheoryData<bool, bool, bool, bool, int, int?, int?, string> Cases => new()
    {
        // stopped, alive, draining, counted while draining, duties held, open requests, embedded jobs → state
        { true, false, false, false, 0, 0, 0, NodeStates.Stopped },
        { true, false, true, true, 0, 0, 0, NodeStates.Stopped },         // stopped wins over drained
        { false, false, false, false, 3, 2, 0, NodeStates.Lost },
        { false, false, true, true, 0, 0, 0, NodeStates.Lost },           // a lost node is not "safe to stop": it may be running
        { false, true, false, false, 3, 5, 1, NodeStates.Alive },
        { false, true, true, true, 0, 0, 0, NodeStates.Drained },         // counted while draining, nothing in hand
        { false, true, true, false, 0, 0, 0, NodeStates.Draining },       // counted before it knew: the balancer may still send work
        { false, true, true, true, 1, 0, 0, NodeStates.Draining },        // still holds a duty
        { false, true, true, true, 0, 1, 0, NodeStates.Draining },        // still handles a request
        { false, true, true, true, 0, 0, 2, NodeStates.Draining },        // its embedded agent still runs jobs
        { false, true, true, true, 0, null, null, NodeStates.Draining },  // an earlier version reports no counts: never "drained"
        { false, true, true, true, 0, 0, null, NodeStates.Drained },      // no embedded agent count: none to wait for
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void State_FollowsTheRules(bool stopped, bool alive, bool draining, bool counted, int duties, int? open, int? jobs, string expected) =>
        Assert.Equal(expected, NodeStates.Of(stopped, alive, draining, counted, duties, open, jobs));

    [Theory]
    [InlineData(true, 2, 0, 0, "it still holds 2 duties")]
    [InlineData(true, 1, 4, 0, "it still holds 1 duty")]
    [InlineData(true, 0, null, null, "a count of its open requests, which a node of an earlier version does not report")]
    [InlineData(false, 0, 0, 0, "its next heartbeat")]
    [InlineData(true, 0, 1, 0, "1 open request")]
    [InlineData(true, 0, 3, 1, "3 open requests and 1 job on its embedded agent")]
    [InlineData(true, 0, 0, 2, "2 jobs on its embedded agent")]
    public void WaitingFor_SaysWhatIsLeft(bool counted, int duties, int? open, int? jobs, string expected) =>
        Assert.Equal(expected, NodeStates.WaitingFor(NodeStates.Draining, counted, duties, open, jobs));

    [Fact]
    public void WaitingFor_IsEmpty_WhenNotDraining()
    {
        Assert.Equal("", NodeStates.WaitingFor(NodeStates.Drained, true, 0, 0, 0));
        Assert.Equal("", NodeStates.WaitingFor(NodeStates.Alive, false, 2, 2, 2));
    }
}
