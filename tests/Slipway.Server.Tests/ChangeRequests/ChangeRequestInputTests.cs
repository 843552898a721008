using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.ChangeRequests;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>Transitions that must fail loudly, bad and hostile input, and direct pushes to an external repository's release branch.</summary>
public sealed class ChangeRequestInputTests
{
    [Fact]
    public async Task StateChanges_AreExplicitTransitions_ThatFailLoudly()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        await kit.Server.Client.SetMergeRulesAsync("shop", "main", 0, null);
        var cr = await kit.GreenChangeRequestAsync("feature/t", "t.txt");
        Assert.Contains("already open", (await Refused(() => kit.Dev1.ReopenChangeRequestAsync("shop", cr.Number), HttpStatusCode.Conflict)).Message);
        Assert.Equal("closed", (await kit.Dev1.CloseChangeRequestAsync("shop", cr.Number)).State);
        Assert.Contains("it is closed", (await Refused(() => kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null), HttpStatusCode.Conflict)).Message);
        Assert.Contains("closed change request cannot become merged", (await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null), HttpStatusCode.Conflict)).Message);
        Assert.Equal("open", (await kit.Dev1.ReopenChangeRequestAsync("shop", cr.Number)).State);
        Assert.Equal("merged", (await kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null)).State);
        Assert.Contains("already merged", (await Refused(() => kit.Dev1.CloseChangeRequestAsync("shop", cr.Number), HttpStatusCode.Conflict)).Message);
        Assert.Contains("already merged", (await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null), HttpStatusCode.Conflict)).Message);
        // A merged change request still shows what it merged.
        var shown = await kit.Dev1.GetChangeRequestAsync("shop", cr.Number);
        Assert.Equal("t.txt", Assert.Single(shown.Files).Path);
        Assert.Empty(shown.UnmetRules);
    }

    [Fact]
    public async Task BadInput_IsRefusedWithAClearMessage_AndAnUnknownKeyIsOnlyAWarning()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var sha = await kit.BranchAsync("feature/SHOP-99-ghost", "g.txt", "g\n", "mentions SHOP-98 too");
        Assert.Contains("no branch 'nope'", (await Refused(() => kit.Dev1.OpenChangeRequestAsync("shop",
            new OpenChangeRequestRequest("x", null, "nope", null)), HttpStatusCode.BadRequest)).Message);
        Assert.Contains("both 'main'", (await Refused(() => kit.Dev1.OpenChangeRequestAsync("shop",
            new OpenChangeRequestRequest("x", null, "main", "main")), HttpStatusCode.BadRequest)).Message);
        Assert.Contains("title", (await Refused(() => kit.Dev1.OpenChangeRequestAsync("shop",
            new OpenChangeRequestRequest("two\nlines", null, "feature/SHOP-99-ghost", null)), HttpStatusCode.BadRequest)).Message);
        Assert.Contains("no branch '--upload-pack=x'", (await Refused(() => kit.Dev1.OpenChangeRequestAsync("shop",
            new OpenChangeRequestRequest("x", null, "--upload-pack=x", null)), HttpStatusCode.BadRequest)).Message);

        var cr = await kit.Dev1.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Ghost SHOP-1", "see SHOP-97", "feature/SHOP-99-ghost", null));
        Assert.Equal("SHOP-1", Assert.Single(cr.Items).Key);
        Assert.Equal(3, cr.Warnings.Count);
        Assert.All(new[] { "SHOP-97", "SHOP-98", "SHOP-99" }, k => Assert.Contains(cr.Warnings, w => w.Contains(k)));
        Assert.Contains("already proposes", (await Refused(() => kit.Dev1.OpenChangeRequestAsync("shop",
            new OpenChangeRequestRequest("again", null, "feature/SHOP-99-ghost", null)), HttpStatusCode.Conflict)).Message);
        Assert.Equal("succeeded", await kit.WaitForCommitAsync(sha)); // the unknown keys never fail the run
        Assert.Contains("approve", (await Refused(() => kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "lgtm", null), HttpStatusCode.BadRequest)).Message);
        Assert.Contains("squash", (await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, "rebase"), HttpStatusCode.BadRequest)).Message);
        Assert.Contains("required approvals", (await Refused(() => kit.Server.Client.SetMergeRulesAsync("shop", "main", 11, null), HttpStatusCode.BadRequest)).Message);
    }

    [Fact]
    public async Task ShellAndHtmlMetacharacters_InBranchNamesAndTitles_AreOnlyText()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        await kit.Server.Client.SetMergeRulesAsync("shop", "main", 0, null);
        var marker = Path.Combine(Path.GetTempPath(), "slipway-pwned-" + Guid.NewGuid().ToString("N"));
        var branch = $"feature/$(touch${{IFS}}{marker})`id`;&|<b>";
        var title = $"<script>alert(1)</script> $(touch {marker}) `touch {marker}` ; rm -rf / \"'";
        var cr = await kit.GreenChangeRequestAsync(branch, "m.txt", title);
        Assert.Equal(branch, cr.Source);
        Assert.Equal(title, cr.Title);
        var merged = await kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null);
        Assert.Equal("merged", merged.State);
        Assert.Contains(title, kit.Git("log", "-1", "--format=%B", "main"));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task ADirectPushToTheReleaseBranchOfAnExternalRepository_IsFlaggedAndAudited()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var old = kit.Git("rev-parse", "main");
        kit.Repo.WriteFile("hotfix.txt", "x\n");
        var pushed = kit.Repo.Commit("direct hotfix");
        await kit.DetectAsync();
        var flagged = Assert.Single(await kit.Dev1.ListDirectPushesAsync("shop"));
        Assert.Equal(("main", old, pushed), (flagged.Branch, flagged.OldHead, flagged.NewHead));
        var audit = await AuditAsync(kit.Server, "action=repo.push");
        Assert.Contains(audit, e => e.Actor == "slipway" && e.Outcome == "failed" && e.Detail!.StartsWith("DIRECT PUSH: protected branch 'main'"));
        // The project page shows it.
        using var admin = Http(kit.Server, Slipway.Testing.SlipwayTestServer.AdminToken);
        var page = await (await admin.GetAsync("/projects/shop")).Content.ReadAsStringAsync();
        Assert.Contains("Direct pushes to protected branches", page);
        Assert.Contains(pushed[..12], page);
        // Other branches are not protected: pushing them is normal work.
        await kit.BranchAsync("feature/free", "f.txt", "f\n", "free");
        Assert.Single(await kit.Dev1.ListDirectPushesAsync("shop"));
    }
}
