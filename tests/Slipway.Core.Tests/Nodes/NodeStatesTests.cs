using Slipway.Core.Nodes;

namespace Slipway.Core.Tests.Nodes;

public class NodeStatesTests
{
    private const long Beat = 1_000_000;

    public static TheoryData<bool, bool, long?, int, int, string> Cases => new()
    {
        // stopped, alive, drain asked at (null: not draining), duties held, open requests → state
        { true, false, null, 0, 0, NodeStates.Stopped },
        { true, false, Beat - 1, 0, 0, NodeStates.Stopped },      // stopped wins over drained
        { false, false, null, 3, 2, NodeStates.Lost },
        { false, false, Beat - 1, 0, 0, NodeStates.Lost },         // a lost node is not "safe to stop": it may be running
        { false, true, null, 3, 5, NodeStates.Alive },
        { false, true, Beat - 1, 0, 0, NodeStates.Drained },       // beat since the request, nothing in hand
        { false, true, Beat, 0, 0, NodeStates.Draining },          // asked at the very beat: the node may not have known
        { false, true, Beat + 1, 0, 0, NodeStates.Draining },      // asked after its last beat: it has not heard yet
        { false, true, Beat - 1, 1, 0, NodeStates.Draining },      // still holds a duty
        { false, true, Beat - 1, 0, 1, NodeStates.Draining },      // still handles a request
        { false, true, 0, 0, 0, NodeStates.Drained },              // draining since before the column existed (migration 0039)
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void State_FollowsTheRules(bool stopped, bool alive, long? drainAskedAt, int duties, int open, string expected) =>
        Assert.Equal(expected, NodeStates.Of(stopped, alive, drainAskedAt, Beat, duties, open));

    [Theory]
    [InlineData(NodeStates.Draining, 2, 0, "it still holds 2 duties")]
    [InlineData(NodeStates.Draining, 1, 4, "it still holds 1 duty")]
    [InlineData(NodeStates.Draining, 0, 1, "1 open request")]
    [InlineData(NodeStates.Draining, 0, 3, "3 open requests")]
    [InlineData(NodeStates.Draining, 0, 0, "its next heartbeat")]
    [InlineData(NodeStates.Drained, 0, 0, "")]
    [InlineData(NodeStates.Alive, 2, 2, "")]
    public void WaitingFor_SaysWhatIsLeft(string state, int duties, int open, string expected) =>
        Assert.Equal(expected, NodeStates.WaitingFor(state, duties, open));
}
