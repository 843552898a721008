using Slipway.Core.ChangeRequests;
using Slipway.Core.Policies;

namespace Slipway.Core.Tests.ChangeRequests;

public sealed class MergeCheckTests
{
    private const string Head = "1111111111111111111111111111111111111111";
    private const string OldHead = "2222222222222222222222222222222222222222";

    private static MergeFacts Facts(IReadOnlyList<Review>? reviews = null, HeadPipeline pipeline = HeadPipeline.Succeeded,
        IReadOnlyList<string>? conflicts = null, bool ancestor = true, ChangeRequestState state = ChangeRequestState.Open,
        IReadOnlyList<ChangeCommit>? commits = null) =>
        new(state, "alice", Head, commits ?? [new ChangeCommit(Head, "alice")], reviews ?? [], pipeline, conflicts ?? [], ancestor);

    private static Review Approve(string who, string sha = Head, long at = 1) => new(who, ReviewVerdict.Approve, sha, at);

    private static IReadOnlyList<string> Rules(MergeFacts facts, MergeRules? rules = null, MergeStrategy strategy = MergeStrategy.Merge) =>
        MergeCheck.Evaluate(facts, rules ?? MergeRules.Default, strategy).Select(u => u.Rule).ToList();

    [Fact]
    public void ApprovedByAnotherUser_GreenAndClean_Merges()
    {
        Assert.Empty(Rules(Facts([Approve("bob")])));
    }

    [Fact]
    public void EveryUnmetRuleIsListed_AtOnce()
    {
        var rules = Rules(Facts([], HeadPipeline.Failed, ["a.txt"], state: ChangeRequestState.Closed, commits: []));
        Assert.Equal([MergeCheck.Open, MergeCheck.HasChanges, MergeCheck.Approvals, MergeCheck.GreenPipeline, MergeCheck.NoConflicts], rules);
    }

    [Theory]
    [InlineData(HeadPipeline.None, "no run of the head commit")]
    [InlineData(HeadPipeline.Running, "has not finished")]
    [InlineData(HeadPipeline.Failed, "did not succeed")]
    public void HeadPipelineMustHaveSucceeded(HeadPipeline pipeline, string message)
    {
        var unmet = Assert.Single(MergeCheck.Evaluate(Facts([Approve("bob")], pipeline), MergeRules.Default, MergeStrategy.Merge));
        Assert.Equal(MergeCheck.GreenPipeline, unmet.Rule);
        Assert.Contains(message, unmet.Message);
    }

    [Fact]
    public void AuthorsOwnApproval_AndCommitAuthorsApproval_DoNotCount_AndSayWhy()
    {
        var facts = Facts([Approve("alice"), Approve("carol")], commits: [new ChangeCommit(Head, "carol")]);
        var unmet = Assert.Single(MergeCheck.Evaluate(facts, MergeRules.Default, MergeStrategy.Merge));
        Assert.Equal(MergeCheck.Approvals, unmet.Rule);
        Assert.Contains("alice wrote this change request", unmet.Message);
        Assert.Contains("carol wrote commit", unmet.Message);
    }

    [Fact]
    public void StaleApprovals_AreDismissed_UnlessTheRulesKeepThem()
    {
        var facts = Facts([Approve("bob", OldHead)]);
        var unmet = Assert.Single(MergeCheck.Evaluate(facts, MergeRules.Default, MergeStrategy.Merge));
        Assert.Contains("new commits were pushed since", unmet.Message);
        Assert.Empty(Rules(facts, new MergeRules(1, DismissStaleApprovals: false)));
        Assert.True(MergeCheck.IsDismissed(facts.Reviews[0], Head, MergeRules.Default));
    }

    [Fact]
    public void TwoApprovalsRequired_OneUserTwiceCountsOnce_CaseInsensitive()
    {
        var rules = new MergeRules(2, true);
        Assert.Equal([MergeCheck.Approvals], Rules(Facts([Approve("bob", at: 1), Approve("BOB", at: 2)]), rules));
        Assert.Empty(Rules(Facts([Approve("bob"), Approve("dave")]), rules));
    }

    [Fact]
    public void RequestChanges_Blocks_UntilThatReviewerApproves()
    {
        var blocked = Facts([Approve("bob"), new Review("dave", ReviewVerdict.RequestChanges, Head, 2)]);
        Assert.Equal([MergeCheck.NoChangesRequested], Rules(blocked));
        var lifted = Facts([Approve("bob"), new Review("dave", ReviewVerdict.RequestChanges, Head, 2), Approve("dave", at: 3)]);
        Assert.Empty(Rules(lifted));
        var comment = Facts([Approve("bob"), new Review("dave", ReviewVerdict.RequestChanges, Head, 2), new Review("dave", ReviewVerdict.Comment, Head, 3)]);
        Assert.Equal([MergeCheck.NoChangesRequested], Rules(comment)); // a comment does not lift it
    }

    [Fact]
    public void FastForward_NeedsTheTargetAsAncestor_AndIgnoresConflicts()
    {
        Assert.Equal([MergeCheck.FastForwardPossible], Rules(Facts([Approve("bob")], ancestor: false), strategy: MergeStrategy.FastForward));
        Assert.Empty(Rules(Facts([Approve("bob")], ancestor: true), strategy: MergeStrategy.FastForward));
        Assert.Empty(Rules(Facts([Approve("bob")], ancestor: false), strategy: MergeStrategy.Squash));
    }

    [Fact]
    public void ZeroRequiredApprovals_NeedsNone()
    {
        Assert.Empty(Rules(Facts([]), new MergeRules(0, true)));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public void RulesOutOfRange_AreRefused(int approvals) => Assert.NotNull(new MergeRules(approvals, true).Check());

    [Fact]
    public void Reviews_MayGive_RefusesAuthorAndCommitAuthors_NamingTheRule()
    {
        var commits = new[] { new ChangeCommit(Head, "carol"), new ChangeCommit(OldHead, null) };
        var own = Assert.IsType<PolicyDecision.Refused>(Reviews.MayGive("Alice", ReviewVerdict.Approve, "alice", commits));
        Assert.Equal(PolicyRules.ActorNotAuthor, own.Rule);
        var written = Assert.IsType<PolicyDecision.Refused>(Reviews.MayGive("carol", ReviewVerdict.Approve, "alice", commits));
        Assert.Contains("commit 111111111111", written.Message);
        Assert.Same(PolicyDecision.Allow, Reviews.MayGive("bob", ReviewVerdict.Approve, "alice", commits));
        Assert.Same(PolicyDecision.Allow, Reviews.MayGive("alice", ReviewVerdict.Comment, "alice", commits));
    }

    [Fact]
    public void APusher_MayNotApprove_WhateverTheAuthorLineSays_AndAnEarlierApprovalOfTheirsNoLongerCounts()
    {
        // dave approved alice's change, then pushed a commit into it written as "nobody" (an author matching no user).
        var commits = new[] { new ChangeCommit(OldHead, null, ["alice"]), new ChangeCommit(Head, null, ["dave"]) };
        var refused = Assert.IsType<PolicyDecision.Refused>(Reviews.MayGive("Dave", ReviewVerdict.Approve, "alice", commits));
        Assert.Equal(PolicyRules.ActorNotAuthor, refused.Rule);
        Assert.EndsWith("Dave pushed commit 111111111111 of this change request and may not approve it (whoever its author line names)", refused.Message);
        Assert.Same(PolicyDecision.Allow, Reviews.MayGive("bob", ReviewVerdict.Approve, "alice", commits));
        Assert.Equal(["alice", "dave"], Reviews.Contributors(commits));

        var facts = Facts(reviews: [Approve("dave")], commits: commits);
        Assert.Contains(MergeCheck.Approvals, Rules(facts, new MergeRules(1, DismissStaleApprovals: false)));
        Assert.DoesNotContain(MergeCheck.Approvals, Rules(facts with { Reviews = [Approve("bob")] }, new MergeRules(1, DismissStaleApprovals: false)));
    }

    [Theory]
    [InlineData("merge", MergeStrategy.Merge)]
    [InlineData("squash", MergeStrategy.Squash)]
    [InlineData("fast-forward", MergeStrategy.FastForward)]
    [InlineData("ff", MergeStrategy.FastForward)]
    public void Strategies_Parse(string name, MergeStrategy expected) => Assert.Equal(expected, MergeStrategies.Parse(name));

    [Fact]
    public void UnknownStrategyOrVerdict_IsRefused_NamingTheChoices()
    {
        Assert.Contains("squash", Assert.Throws<ArgumentException>(() => MergeStrategies.Parse("rebase")).Message);
        Assert.Contains("request-changes", Assert.Throws<ArgumentException>(() => Reviews.Parse("lgtm")).Message);
    }
}
