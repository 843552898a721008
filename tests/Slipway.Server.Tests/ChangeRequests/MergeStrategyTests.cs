using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.ChangeRequests;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>How Slipway merges: conflicts found before merging, merge/squash/fast-forward, concurrent merges into one branch, auto-merge.</summary>
public sealed class MergeStrategyTests
{
    [Fact]
    public async Task AConflict_IsShownWithItsFiles_BeforeMerging_AndRefusesTheMerge()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var cr = await kit.GreenChangeRequestAsync("feature/edit", "app.txt", content: "branch\n");
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null);
        kit.Repo.WriteFile("app.txt", "main moved\n");
        kit.Repo.Commit("main moved");
        await kit.DetectAsync();

        var shown = await kit.Dev1.GetChangeRequestAsync("shop", cr.Number);
        Assert.Equal(["app.txt"], shown.ConflictingFiles);
        Assert.Contains(shown.UnmetRules, u => u.Rule == MergeCheck.NoConflicts && u.Message.Contains("app.txt"));
        var mainBefore = kit.Git("rev-parse", "main");
        var e = await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null), HttpStatusCode.Conflict);
        Assert.Contains("no-conflicts", e.Message);
        Assert.Equal(mainBefore, kit.Git("rev-parse", "main"));
    }

    [Fact]
    public async Task Squash_MakesOneCommitOnTheTarget_FastForward_MovesTheTarget_OrIsRefusedWhenItMoved()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        await kit.Server.Client.SetMergeRulesAsync("shop", "main", 0, null);

        var ff = await kit.GreenChangeRequestAsync("feature/ff", "ff.txt");
        var ffMerged = await kit.Dev1.MergeChangeRequestAsync("shop", ff.Number, "fast-forward");
        Assert.Equal(ff.SourceHead, ffMerged.MergeCommit);
        Assert.Equal(ff.SourceHead, kit.Git("rev-parse", "main"));

        var squash = await kit.GreenChangeRequestAsync("feature/sq", "sq.txt", "Squashed <b>change</b>");
        var second = await kit.CommitOnAsync("feature/sq", "sq2.txt", "two\n", "second commit");
        Assert.Equal("succeeded", await kit.WaitForCommitAsync(second));
        var mainBefore = kit.Git("rev-parse", "main");
        var sq = await kit.Dev1.MergeChangeRequestAsync("shop", squash.Number, "squash");
        Assert.Equal($"{sq.MergeCommit} {mainBefore}", kit.Git("rev-list", "--parents", "-n", "1", "main"));
        Assert.Equal(kit.Git("rev-parse", "feature/sq^{tree}"), kit.Git("rev-parse", "main^{tree}"));
        Assert.StartsWith("Squashed <b>change</b> (change request #2)", kit.Git("log", "-1", "--format=%B", "main"));
        Assert.Equal("dev1 <dev1@users.slipway.invalid>", kit.Git("log", "-1", "--format=%an <%ae>", "main")); // the change's author

        // main moved since feature/late branched: fast-forward is refused by name, a merge commit is fine.
        var late = await kit.BranchAsync("feature/late", "late.txt", "late\n", "late", from: mainBefore);
        Assert.Equal("succeeded", await kit.WaitForCommitAsync(late));
        var lateCr = await kit.Dev1.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Late", null, "feature/late", null));
        var refused = await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", lateCr.Number, "ff"), HttpStatusCode.Conflict);
        Assert.Contains(MergeCheck.FastForwardPossible, refused.Message);
        Assert.Equal("merged", (await kit.Dev1.MergeChangeRequestAsync("shop", lateCr.Number, "merge")).State);
    }

    [Fact]
    public async Task TwoMergesIntoOneBranch_AtNearlyTheSameMoment_BothLand_AndTheBranchKeepsEveryCommit()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        await kit.Server.Client.SetMergeRulesAsync("shop", "main", 0, null);
        var one = await kit.GreenChangeRequestAsync("feature/one", "one.txt");
        var two = await kit.GreenChangeRequestAsync("feature/two", "two.txt");
        var mainBefore = kit.Git("rev-parse", "main");

        var results = await Task.WhenAll(
            Task.Run(() => kit.Dev1.MergeChangeRequestAsync("shop", one.Number, null)),
            Task.Run(() => kit.Dev2.MergeChangeRequestAsync("shop", two.Number, null)));

        Assert.All(results, r => Assert.Equal("merged", r.State));
        var head = kit.Git("rev-parse", "main");
        Assert.Contains(head, results.Select(r => r.MergeCommit));
        foreach (var sha in new[] { mainBefore, one.SourceHead!, two.SourceHead!, results[0].MergeCommit!, results[1].MergeCommit! })
            Assert.Equal("", kit.Git("merge-base", "--is-ancestor", sha, "main")); // throws if not an ancestor
        Assert.Equal("", kit.Git("fsck", "--no-progress", "--no-dangling"));
        Assert.Contains("one.txt", kit.Git("ls-tree", "--name-only", "main"));
        Assert.Contains("two.txt", kit.Git("ls-tree", "--name-only", "main"));
    }

    [Fact]
    public async Task AutoMerge_MergesByItself_OnceApprovedAndGreen()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var sha = await kit.BranchAsync("feature/auto", "auto.txt", "auto\n", "auto");
        var cr = await kit.Dev1.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Auto", null, "feature/auto", null, AutoMerge: "squash"));
        Assert.Equal("squash", cr.AutoMerge);
        Assert.Equal("succeeded", await kit.WaitForCommitAsync(sha));
        // The auto-merger looks every second; on a loaded machine its pass may come later, so wait for its note.
        var noted = DateTime.UtcNow.AddSeconds(20);
        ChangeRequestDto waiting;
        while ((waiting = await kit.Dev1.GetChangeRequestAsync("shop", cr.Number)).AutoMergeError is null && DateTime.UtcNow < noted) await Task.Delay(100);
        Assert.Equal("open", waiting.State); // no approval yet
        Assert.Contains("approvals", waiting.AutoMergeError);

        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        ChangeRequestDto now;
        while ((now = await kit.Dev1.GetChangeRequestAsync("shop", cr.Number)).State != "merged" && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal("merged", now.State);
        Assert.Equal("dev1", now.MergedBy);
        Assert.Equal("squash", now.MergeStrategy);
        // The merge is recorded first; the system's audit entry follows once the target's run has started.
        while (!(await AuditAsync(kit.Server, "action=cr.merge")).Any(e => e.Actor == "slipway" && e.Detail!.Contains("merged automatically for dev1")))
        {
            Assert.True(DateTime.UtcNow < deadline, "no audit entry for the automatic merge");
            await Task.Delay(100);
        }
    }
}
