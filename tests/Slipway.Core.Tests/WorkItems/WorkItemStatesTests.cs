using Slipway.Core.WorkItems;

namespace Slipway.Core.Tests.WorkItems;

public sealed class WorkItemStatesTests
{
    public static TheoryData<WorkItemFacts, WorkItemState> Cases => new()
    {
        { new WorkItemFacts(0, 0), WorkItemState.Requested },
        { new WorkItemFacts(1, 0), WorkItemState.InDevelopment },
        { new WorkItemFacts(0, 3), WorkItemState.InDevelopment },
        { new WorkItemFacts(0, 0, OpenChangeRequests: 0, MergedChangeRequests: 0), WorkItemState.Requested },
        { new WorkItemFacts(1, 1, OpenChangeRequests: 1), WorkItemState.InReview },
        { new WorkItemFacts(1, 1, OpenChangeRequests: 1, MergedChangeRequests: 1), WorkItemState.Merged },
        { new WorkItemFacts(0, 0, MergedChangeRequests: 1), WorkItemState.Merged },
        { new WorkItemFacts(1, 1, OpenChangeRequests: 0, MergedChangeRequests: 1, Release: "1.4.7"), WorkItemState.Released },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Derive_GivesTheFurthestStateTheFactsProve(WorkItemFacts facts, WorkItemState expected) =>
        Assert.Equal(expected, WorkItemStates.Derive(facts));

    [Fact]
    public void Names_RoundTrip()
    {
        Assert.Equal(["requested", "in_development", "in_review", "merged", "released"], WorkItemStates.All.Select(s => s.Name()));
        foreach (var state in WorkItemStates.All) Assert.Equal(state, WorkItemStates.Parse(state.Name()));
        Assert.Null(WorkItemStates.Parse("done"));
        Assert.Equal(WorkItemKind.Bug, WorkItemKinds.Parse("bug"));
        Assert.Null(WorkItemKinds.Parse("Bug"));
    }

    [Theory]
    [InlineData("<script>alert(1)</script> $(rm -rf /) `x` ; | &", null)]
    [InlineData("", "empty")]
    [InlineData("a\nb", "control")]
    [InlineData("a\u001b[31m", "control")]
    public void CheckTitle_KeepsMetacharacters_RefusesControlCharacters(string title, string? errorContains)
    {
        var error = WorkItemText.CheckTitle(title);

        if (errorContains is null) Assert.Null(error);
        else Assert.Contains(errorContains, error);
    }

    [Fact]
    public void Description_KeepsLineBreaks_RefusesOtherControlCharacters()
    {
        Assert.Equal(("a\nb\tc", null), WorkItemText.NormaliseDescription("a\r\nb\tc"));
        Assert.NotNull(WorkItemText.NormaliseDescription("a\u0007").Error);
        Assert.NotNull(WorkItemText.NormaliseDescription(new string('x', WorkItemText.MaxDescriptionLength + 1)).Error);
    }
}
