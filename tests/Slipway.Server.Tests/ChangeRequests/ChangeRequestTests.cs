using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.ChangeRequests;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>The change request flow and its segregation-of-duties and pipeline rules, against a real server, a real external git repository and the embedded agent.</summary>
public sealed class ChangeRequestTests
{
    [Fact]
    public async Task OpenApproveMerge_TheTargetGetsAMergeCommit_TheItemIsMerged_AndEveryStepIsAudited()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var cr = await kit.GreenChangeRequestAsync("feature/SHOP-1-cart-total", "cart.txt", "Cart total");
        Assert.Equal("open", cr.State);
        Assert.Equal("main", cr.Target);
        Assert.Single(cr.Commits);
        Assert.Equal("cart.txt", Assert.Single(cr.Files).Path);
        Assert.Equal("succeeded", cr.HeadRuns[0].Status);
        Assert.Equal("SHOP-1", Assert.Single(cr.Items).Key);
        Assert.Equal("in_review", (await kit.Dev1.GetWorkItemAsync("shop", 1)).State);
        Assert.Equal([MergeCheck.Approvals], cr.UnmetRules.Select(u => u.Rule));

        // The author cannot approve, and merging without an approval names the rule.
        var own = await Refused(() => kit.Dev1.ReviewChangeRequestAsync("shop", cr.Number, "approve", null), HttpStatusCode.Forbidden);
        Assert.Contains("dev1 wrote this change request", own.Message);
        var early = await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null), HttpStatusCode.Conflict);
        Assert.Contains("approvals:", early.Message);

        var approved = await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", "looks right");
        Assert.Empty(approved.UnmetRules);
        var mainBefore = kit.Git("rev-parse", "main");
        var merged = await kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null);

        Assert.Equal("merged", merged.State);
        Assert.Equal("dev1", merged.MergedBy);
        Assert.Equal("merge", merged.MergeStrategy);
        Assert.Equal(merged.MergeCommit, kit.Git("rev-parse", "main"));
        Assert.Equal($"{merged.MergeCommit} {mainBefore} {cr.SourceHead}", kit.Git("rev-list", "--parents", "-n", "1", "main"));
        var message = kit.Git("log", "-1", "--format=%B", "main");
        Assert.Contains("Merge change request #1: Cart total", message);
        Assert.Contains("Approved-by: dev2", message);
        Assert.Contains("Merged-by: dev1", message);
        Assert.Equal("Slipway <slipway@localhost>", kit.Git("log", "-1", "--format=%cn <%ce>", "main"));
        Assert.Equal("merged", (await kit.Dev1.GetWorkItemAsync("shop", 1)).State);
        var timeline = (await kit.Dev1.GetWorkItemAsync("shop", 1)).Timeline!;
        Assert.Contains(timeline, e => e.Kind == "change_request" && e.Ref == "1" && e.Who == "dev1");
        Assert.Contains(timeline, e => e.Kind == "change_request_merged" && e.Ref == "1" && e.Who == "dev1");

        // The merge started the target's run at once (no poll: the interval is an hour).
        Assert.Equal("succeeded", await kit.WaitForCommitAsync(merged.MergeCommit!));
        var audit = await AuditAsync(kit.Server, "target=project:shop cr:1");
        Assert.Contains(audit, e => e.Action == "cr.write" && e.Actor == "dev1" && e.Outcome == "succeeded");
        Assert.Contains(audit, e => e.Action == "cr.review" && e.Actor == "dev2" && e.Outcome == "succeeded");
        Assert.Contains(audit, e => e.Action == "cr.merge" && e.Actor == "dev1" && e.Outcome == "failed" && e.Detail!.Contains("approvals"));
        Assert.Contains(audit, e => e.Action == "cr.merge" && e.Actor == "dev1" && e.Outcome == "succeeded");
        Assert.Contains(audit, e => e.Action == "cr.review" && e.Actor == "dev1" && e.Outcome == "denied" && e.Detail!.Contains("actor-not-author"));
        // Slipway's own merge is not a direct push.
        Assert.Empty(await kit.Dev1.ListDirectPushesAsync("shop"));
    }

    [Fact]
    public async Task ApprovalByAnAuthorOfOneOfItsCommits_IsRefused_NamingTheRuleAndCommit()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var cr = await kit.GreenChangeRequestAsync("feature/x", "x.txt");
        var e = await Refused(() => kit.Tester.ReviewChangeRequestAsync("shop", cr.Number, "approve", null), HttpStatusCode.Forbidden);
        Assert.Contains("tester wrote commit " + cr.SourceHead![..12], e.Message);
        var denial = (await AuditAsync(kit.Server, "action=cr.review&outcome=denied")).First();
        Assert.Equal(("tester", "denied"), (denial.Actor, denial.Outcome));
        Assert.Contains("refused by rule 'actor-not-author'", denial.Detail);
        // Comments and requests for changes are open to them.
        var commented = await kit.Tester.ReviewChangeRequestAsync("shop", cr.Number, "comment", "why this name?");
        Assert.Equal("comment", Assert.Single(commented.Reviews).Verdict);
    }

    [Fact]
    public async Task MergeIsRefused_WhileTheHeadPipelineRuns_AndWhenItFailed()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var slow = await kit.BranchAsync("feature/slow", "SLOW", "", "slow");
        var cr = await kit.Dev1.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Slow", null, "feature/slow", null));
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null);
        var running = await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null), HttpStatusCode.Conflict);
        Assert.Contains("green-pipeline: the run of the head commit " + slow[..12] + " has not finished", running.Message);

        var failing = await kit.BranchAsync("feature/fail", "FAIL", "", "fails");
        Assert.Equal("failed", await kit.WaitForCommitAsync(failing));
        var bad = await kit.Dev1.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Fails", null, "feature/fail", null));
        await kit.Dev2.ReviewChangeRequestAsync("shop", bad.Number, "approve", null);
        var failed = await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", bad.Number, null), HttpStatusCode.Conflict);
        Assert.Contains("did not succeed", failed.Message);
        Assert.Equal(kit.Git("rev-parse", "main"), (await kit.Dev1.GetChangeRequestAsync("shop", bad.Number)).TargetHead);
    }

    [Fact]
    public async Task NewCommits_DismissApprovals_UnlessTheTargetsRulesKeepThem()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var cr = await kit.GreenChangeRequestAsync("feature/a", "a.txt");
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null);
        var second = await kit.CommitOnAsync("feature/a", "a.txt", "again\n", "second");
        Assert.Equal("succeeded", await kit.WaitForCommitAsync(second));
        var after = await kit.Dev1.GetChangeRequestAsync("shop", cr.Number);
        Assert.Equal(second, after.SourceHead);
        Assert.True(Assert.Single(after.Reviews).Dismissed);
        Assert.Contains(after.UnmetRules, u => u.Rule == MergeCheck.Approvals && u.Message.Contains("new commits were pushed since"));

        var rules = await kit.Server.Client.SetMergeRulesAsync("shop", "main", null, dismissStale: false);
        Assert.False(rules.DismissStaleApprovals);
        Assert.Equal(1, rules.RequiredApprovals);
        var kept = await kit.Dev1.GetChangeRequestAsync("shop", cr.Number);
        Assert.False(Assert.Single(kept.Reviews).Dismissed);
        Assert.Empty(kept.UnmetRules);
    }
}
