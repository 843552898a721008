using Slipway.Core.Releases;

namespace Slipway.Core.Tests.Releases;

public sealed class ReleaseLineageTests
{
    // main: 1 - 2 - 4 - 6 (6 merges the hotfix 5 back); release/1: 1 - 3 - 5 (hotfixes cut from 1).
    private static readonly LineageRelease[] Branched =
    [
        new(1, []), new(2, [1]), new(3, [1]), new(4, [2]), new(5, [3]), new(6, [4, 5]),
    ];

    [Fact]
    public void AReleaseContains_ItsAncestorsOnly_NotANewerReleaseOfAnotherBranch()
    {
        var lineage = new ReleaseLineage(Branched);

        Assert.Equal([2, 4, 6], lineage.Containing(2).Order()); // the hotfixes 3 and 5 are newer but do not descend from 2
        Assert.Equal([3, 5, 6], lineage.Containing(3).Order()); // the hotfix reaches main with the merge (6), not before
        Assert.Equal([1, 2, 3, 4, 5, 6], lineage.Containing(1).Order());
    }

    [Fact]
    public void AnItemNamedByTwoLines_IsInBoth()
    {
        // A fix shipped first in the hotfix 3 and cherry-picked to main, where 4 names it too.
        var lineage = new ReleaseLineage(Branched);

        Assert.Equal([3, 4, 5, 6], lineage.Containing([3, 4]).Order());
        Assert.Empty(lineage.Containing([]));
    }

    [Fact]
    public void ReleasesMadeBeforeParentsWereRecorded_ContainEveryReleaseBeforeThem()
    {
        var lineage = new ReleaseLineage([new(1, null), new(2, null), new(3, null), new(4, [1])]);

        Assert.Equal([2, 3], lineage.Containing(2).Order()); // 4 descends from 1 only
        Assert.Equal([1, 2, 3, 4], lineage.Containing(1).Order());
    }

    [Fact]
    public async Task Parents_OnOneLine_AskGitOnce()
    {
        var asked = new List<long>();
        var parents = await ReleaseLineage.ParentsAsync([new(1, []), new(2, [1]), new(3, [2])], id => { asked.Add(id); return Task.FromResult(true); });

        Assert.Equal([3], parents);
        Assert.Equal([3], asked);
    }

    [Fact]
    public async Task Parents_OfAMainReleaseAfterAnUnmergedHotfix_SkipTheHotfix()
    {
        // A new main release (descends from 4 and so from 2 and 1), the hotfix 5 not merged back.
        var ancestors = new HashSet<long> { 1, 2, 4 };
        var asked = new List<long>();
        var parents = await ReleaseLineage.ParentsAsync(Branched[..5], id => { asked.Add(id); return Task.FromResult(ancestors.Contains(id)); });

        Assert.Equal([4], parents);
        Assert.Equal([5, 4, 3], asked); // 2 and 1 are covered by 4; 3 is not, and git says no
    }

    [Fact]
    public async Task Parents_OfAMerge_AreBothSides_AndOfAFirstRelease_None()
    {
        var merge = await ReleaseLineage.ParentsAsync(Branched[..5], _ => Task.FromResult(true));
        var none = await ReleaseLineage.ParentsAsync([], _ => throw new InvalidOperationException("nothing to ask"));

        Assert.Equal([5, 4], merge);
        Assert.Empty(none);
    }

    [Fact]
    public async Task Parents_NotDecidedWithinTheChecksAllowed_AreUnknown_NeverAGuess()
    {
        var many = Enumerable.Range(1, 10).Select(i => new LineageRelease(i, [])).ToList(); // ten unrelated branches
        var asked = 0;
        var parents = await ReleaseLineage.ParentsAsync(many, id => { asked++; return Task.FromResult(id == 1); }, maxChecks: 5);

        Assert.Null(parents); // release 1 would have been the sixth question: stored as not known (the rule of before)
        Assert.Equal(5, asked);
    }

    [Fact]
    public async Task Parents_AfterAReleaseOfUnknownParents_CoverEverythingBeforeIt()
    {
        var asked = new List<long>();
        var parents = await ReleaseLineage.ParentsAsync([new(1, null), new(2, null), new(3, null)], id => { asked.Add(id); return Task.FromResult(true); });

        Assert.Equal([3], parents);
        Assert.Equal([3], asked);
    }
}
