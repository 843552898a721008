using Slipway.Core.ChangeRequests;

namespace Slipway.Core.Tests.ChangeRequests;

public sealed class ChangeRequestTransitionTests
{
    [Theory]
    [InlineData(ChangeRequestState.Open, ChangeRequestState.Merged)]
    [InlineData(ChangeRequestState.Open, ChangeRequestState.Closed)]
    [InlineData(ChangeRequestState.Closed, ChangeRequestState.Open)]
    public void Allowed(ChangeRequestState from, ChangeRequestState to) =>
        ChangeRequestTransitions.Ensure("change request #1", from, to);

    [Theory]
    [InlineData(ChangeRequestState.Merged, ChangeRequestState.Open, "already merged")]
    [InlineData(ChangeRequestState.Merged, ChangeRequestState.Closed, "already merged")]
    [InlineData(ChangeRequestState.Merged, ChangeRequestState.Merged, "already merged")]
    [InlineData(ChangeRequestState.Closed, ChangeRequestState.Merged, "a closed change request cannot become merged")]
    [InlineData(ChangeRequestState.Open, ChangeRequestState.Open, "already open")]
    [InlineData(ChangeRequestState.Closed, ChangeRequestState.Closed, "already closed")]
    public void Refused_Loudly_SayingWhy(ChangeRequestState from, ChangeRequestState to, string why)
    {
        var e = Assert.Throws<ChangeRequestTransitionException>(() => ChangeRequestTransitions.Ensure("change request #1", from, to));
        Assert.Contains(why, e.Message);
        Assert.Contains("change request #1", e.Message);
    }

    [Fact]
    public void ReviewingNeedsAnOpenChangeRequest()
    {
        ChangeRequestTransitions.EnsureOpen("change request #2", ChangeRequestState.Open, "review");
        var e = Assert.Throws<ChangeRequestTransitionException>(() => ChangeRequestTransitions.EnsureOpen("change request #2", ChangeRequestState.Merged, "review"));
        Assert.Equal("cannot review change request #2: it is merged", e.Message);
    }
}
