using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Deployments;

/// <summary>
/// The talk's steps 6–7 against a real server, git repository and embedded agent: a release deploys to staging by
/// itself, an analyst promotes it to production, another analyst approves, a failing verify on production rolls back
/// to the previous release by itself, and the dashboard and the evidence export tell that story.
/// </summary>
public sealed class DeploymentFlowTests
{
    [Fact]
    public async Task StagingByItself_PromotedAndApprovedByAnalysts_FailingVerifyRollsBack_AndTheEvidenceTellsIt()
    {
        await using var kit = await DeploymentKit.StartAsync();
        var first = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(), "first release");
        var staging1 = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(), "auto deployment to staging");
        Assert.Equal(("auto", "slipway", first.Version), (staging1.Kind, staging1.Initiator, staging1.Release));
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(staging1.Number)).State);

        // A developer may not deploy to production by any path.
        Assert.Contains("deployer", (await Refused(() => kit.Dev.PromoteAsync("shop", "production"), HttpStatusCode.Forbidden)).Message);
        Assert.Contains("deployer", (await Refused(() => kit.Dev.DeployAsync("shop", first.Version, "production"), HttpStatusCode.Forbidden)).Message);

        var promotion = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal(("promote", "awaiting_approval", first.Version), (promotion.Kind, promotion.State, promotion.Release));
        Assert.Contains("initiator-not-approver", (await Refused(() => kit.Ann.ApproveDeploymentAsync("shop", promotion.Number, null), HttpStatusCode.Forbidden)).Message);
        // Audited as the approval it refused, where an auditor filtering by deployment.approve looks.
        Assert.Contains(await AuditAsync(kit.Server, "action=deployment.approve&outcome=denied"),
            e => e.Actor == "ann" && e.Detail!.Contains("refused by rule 'initiator-not-approver'"));
        await Refused(() => kit.Dev.ApproveDeploymentAsync("shop", promotion.Number, null), HttpStatusCode.Forbidden);
        Assert.Contains("deployer", (await Refused(() => kit.Dev.CancelDeploymentAsync("shop", promotion.Number), HttpStatusCode.Forbidden)).Message);
        var approved = await kit.Bob.ApproveDeploymentAsync("shop", promotion.Number, "checked on staging");
        Assert.Contains(approved.Approvals, a => a.Approver == "bob" && a.Comment == "checked on staging");
        var done = await kit.WaitForDeploymentAsync(promotion.Number);
        Assert.Equal(("succeeded", "deployed and verified"), (done.State, done.Outcome));
        // Nor by rolling production back, nor by retrying the approved deployment's run.
        Assert.Contains("deployer", (await Refused(() => kit.Dev.RollbackAsync("shop", "production", first.Version), HttpStatusCode.Forbidden)).Message);
        Assert.Contains("executes a deployment", (await Refused(() => kit.Dev.RetryRunAsync(done.RunId!.Value, null), HttpStatusCode.Forbidden)).Message);
        var log = await kit.Server.LogAsync(done.RunId!.Value, "deploy");
        Assert.Contains($"deploying {first.Version} to production (previous ) with app 1", log);

        // The next release (with work item SHOP-1) breaks production's verify: it fails there and production returns to the first release by itself.
        await kit.Admin.SetItemKeyAsync("shop", "SHOP");
        await kit.Ann.CreateWorkItemAsync("shop", "Faster checkout");
        var second = await kit.ReleaseAsync("SHOP-1: faster checkout (breaks production)", ("BROKEN-production", "x"), ("VERSION", "2"));
        var staging2 = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(d => d.Release == second), "staging 2");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(staging2.Number)).State);
        var cells = (await kit.Admin.GetDashboardAsync("shop")).Environments;
        Assert.Equal((first.Version, (string?)null), (cells.Single(c => c.Environment == "staging").RollbackTo, cells.Single(c => c.Environment == "production").RollbackTo));
        var preview = await kit.Ann.CompareEnvironmentsAsync("shop", "staging", "production");
        Assert.Equal([second], preview.Releases);
        var promotion2 = await kit.Ann.PromoteAsync("shop", "production");
        await kit.Bob.ApproveDeploymentAsync("shop", promotion2.Number, null);
        var failed = await kit.WaitForDeploymentAsync(promotion2.Number);
        Assert.Equal("failed", failed.State);
        Assert.Contains("verify failed", failed.Outcome);
        Assert.Contains($"deploying {second} to production (previous {first.Version}) with app 2", await kit.Server.LogAsync(failed.RunId!.Value, "deploy"));
        var rollback = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "production")).FirstOrDefault(d => d.Kind == "rollback"), "rollback");
        Assert.Equal((first.Version, "slipway"), (rollback.Release, rollback.Initiator));
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(rollback.Number)).State);

        // The work item tells the same story: on staging, rolled back from production.
        var item = await kit.Ann.GetWorkItemAsync("shop", 1);
        Assert.Equal("released", item.State);
        Assert.Equal([("staging", "deployed"), ("production", "rolled_back")], item.Environments!.Select(w => (w.Environment, w.Status)));
        Assert.Contains(item.Timeline!, e => e.Kind == "deployed" && e.Ref == $"production {second} (failed)" && e.Who == "ann");
        Assert.Contains(item.Timeline!, e => e.Kind == "rolled_back" && e.Ref == $"production {first.Version}" && e.Who == "slipway");

        var dashboard = await kit.Ann.GetDashboardAsync("shop");
        Assert.Equal([("staging", second), ("production", first.Version)], dashboard.Environments.Select(c => (c.Environment, c.Current!.Release)));
        var csv = await kit.Ann.ExportDeploymentsAsync("shop", "production", null, null, "csv");
        var lines = csv.Trim().Split('\n');
        Assert.Equal(4, lines.Length); // header + promotion 1, promotion 2, rollback
        Assert.Contains("approve by bob", lines[1]);
        Assert.Contains("sha256:", lines[1]);
        Assert.Contains("failed", lines[2]);
        Assert.Contains("deploy succeeded; verify failed", lines[2]); // the verify result
        Assert.Contains($"/api/v1/runs/{failed.RunId}/jobs/verify/log/raw", lines[2]); // where its log is
        Assert.Contains("rollback", lines[3]);
        var json = System.Text.Json.JsonSerializer.Deserialize<List<DeploymentDto>>(await kit.Ann.ExportDeploymentsAsync("shop", "production", null, null, "json"),
            new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
        Assert.Equal([promotion.Number, promotion2.Number, rollback.Number], json.Select(d => d.Number));
        Assert.Equal([("deploy", "succeeded"), ("verify", "failed")], json[1].Steps!.Select(j => (j.Name, j.Status)));
        Assert.Contains(json[0].Approvals, a => a.Approver == "bob" && a.Comment == "checked on staging");
        Assert.All(json, d => Assert.NotEmpty(d.Artifacts));
        var audit = await AuditAsync(kit.Server, "action=deployment.start");
        Assert.Contains(audit, e => e.Actor == "dev" && e.Outcome == "denied");
        Assert.Contains(audit, e => e.Actor == "slipway" && e.Detail!.Contains("automatic rollback of 'production'"));

        // A rollback waiting for its approval is not asked for twice: the second click is refused, naming the first.
        var waiting = await kit.Ann.RollbackAsync("shop", "production", first.Version);
        Assert.Equal("awaiting_approval", waiting.State);
        Assert.Contains($"{first.Version} is already on its way to 'production': deployment #{waiting.Number} is awaiting approval",
            (await Refused(() => kit.Ann.RollbackAsync("shop", "production", first.Version), HttpStatusCode.Conflict)).Message);
        Assert.Contains($"(cancel #{waiting.Number} to ask again)",
            (await Refused(() => kit.Ann.RollbackAsync("shop", "production", first.Version), HttpStatusCode.Conflict)).Message);
        // An emergency is not held by it: restoring service comes first (the one waiting may be held by a freeze).
        var emergency = await kit.Admin.RollbackAsync("shop", "production", first.Version, "production is down");
        Assert.NotEqual(waiting.Number, emergency.Number);
        await kit.Admin.CancelDeploymentAsync("shop", emergency.Number);
        await kit.Ann.CancelDeploymentAsync("shop", waiting.Number);
        // Five clicks at once: the check and the write are one step under the environment's lock, so exactly one goes through.
        var clicks = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            try { return (Deployment: (DeploymentDto?)await kit.Ann.RollbackAsync("shop", "production", first.Version), Refusal: (string?)null); }
            catch (Slipway.Client.SlipwayApiException e) when (e.Status == HttpStatusCode.Conflict) { return (null, e.Message); }
        }));
        var through = Assert.Single(clicks, c => c.Deployment is not null).Deployment!;
        Assert.All(clicks.Where(c => c.Refusal is not null), c => Assert.Contains($"deployment #{through.Number} is awaiting approval", c.Refusal));
        // Refusals are audited like every other refused request.
        Assert.Contains(await AuditAsync(kit.Server, "action=deployment.start"),
            e => e.Actor == "ann" && e.Outcome == "denied" && e.Detail!.Contains($"already on its way to 'production': deployment #{through.Number}"));
        await kit.Ann.CancelDeploymentAsync("shop", through.Number);

        // Rolling staging back goes to the older release; a second rollback goes further back, never forward again.
        var back = await kit.Admin.RollbackAsync("shop", "staging", null);
        Assert.Equal(first.Version, back.Release);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(back.Number)).State);
        Assert.Null((await kit.Admin.GetDashboardAsync("shop")).Environments.Single(c => c.Environment == "staging").RollbackTo);
        Assert.Contains($"has had no release before {first.Version} to roll back to",
            (await Refused(() => kit.Admin.RollbackAsync("shop", "staging", null), HttpStatusCode.Conflict)).Message);
    }

    /// <summary>
    /// An item carried by many later releases: the first ones are told one by one (here the first one, the option lowered),
    /// the rest in one event naming them, which a reader without release.read does not see.
    /// </summary>
    [Fact]
    public async Task AnItemCarriedByManyLaterReleases_TellsTheFirstOnes_AndFoldsTheRest()
    {
        await using var kit = await DeploymentKit.StartAsync(configure: o => o.TimelineLaterReleases = 1);
        await kit.Admin.SetItemKeyAsync("shop", "SHOP");
        await kit.Ann.CreateWorkItemAsync("shop", "Faster checkout");
        var own = await kit.ReleaseAsync("SHOP-1: faster checkout", ("VERSION", "2"));
        await kit.OnStagingAsync(own);
        var later = new List<string>();
        foreach (var n in new[] { "3", "4", "5" })
        {
            later.Add(await kit.ReleaseAsync("docs " + n, ("VERSION", n)));
            await kit.OnStagingAsync(later[^1]);
        }

        var timeline = (await kit.Ann.GetWorkItemAsync("shop", 1)).Timeline!;
        Assert.Equal([later[0]], timeline.Where(e => e.Kind == "later_release").Select(e => e.Ref));
        Assert.Equal([$"staging {later[0]}"], timeline.Where(e => e.Kind == "carried").Select(e => e.Ref));
        var folded = Assert.Single(timeline, e => e.Kind == "later_releases_folded");
        Assert.Equal(($"{later[1]} to {later[2]}", "2"), (folded.Ref, folded.Detail));
        Assert.Single(timeline, e => e.Kind == "deployed" && e.Ref.StartsWith($"staging {own}"));
        // A reader of items only (no release.read) is not told of the releases, folded or not.
        await kit.Admin.CreateRoleAsync("item-reader", null, ["item.read"]);
        using var reader = new Slipway.Client.SlipwayClient(kit.Server.Url, await UserWithRoleAsync(kit.Server, "reader", "item-reader", "shop"));
        var seen = (await reader.GetWorkItemAsync("shop", 1)).Timeline!;
        Assert.Contains(seen, e => e.Kind == "created");
        Assert.DoesNotContain(seen, e => e.Kind is "later_releases_folded" or "later_release" or "release");
    }

    /// <summary>
    /// A hotfix from an older release branch does not contain the main line's newer work: reaching staging, it takes the item
    /// away from there (not "on staging" because its release id is newer), and the main line's next release neither counts
    /// it as carrying the item nor lists the item again in its notes.
    /// </summary>
    [Fact]
    public async Task AHotfixFromAnOlderReleaseBranch_DoesNotCarryTheMainLinesItems()
    {
        await using var kit = await DeploymentKit.StartAsync();
        var first = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(), "first release");
        await kit.OnStagingAsync(first.Version);
        await kit.Admin.SetItemKeyAsync("shop", "SHOP");
        await kit.Ann.CreateWorkItemAsync("shop", "Faster checkout");
        var withItem = await kit.ReleaseAsync("SHOP-1: faster checkout", ("VERSION", "2"));
        await kit.OnStagingAsync(withItem);
        Assert.Equal("on staging", (await kit.Ann.GetWorkItemAsync("shop", 1)).StageLabel);

        // release/1 from the first release's commit, with a hotfix on it, then made a release branch.
        kit.Repo.Run("checkout", "-q", "-b", "release/1", first.Commit);
        kit.Repo.WriteFile(".slipway.yml", DeploymentKit.Pipeline.Replace("branch: main", "branch: release/1"));
        await kit.Admin.ProtectBranchAsync("shop", "release/1");
        await kit.Admin.SetReleaseBranchesAsync("shop", ["main", "release/1"]);
        var hotfix = await kit.ReleaseAsync("hotfix on 1", ("VERSION", "1.1"));
        await kit.OnStagingAsync(hotfix);
        var item = await kit.Ann.GetWorkItemAsync("shop", 1);
        Assert.Equal("rolled back from staging", item.StageLabel);
        Assert.Contains(item.Timeline!, e => e.Kind == "rolled_back" && e.Ref == $"staging {hotfix}");
        Assert.DoesNotContain(item.Timeline!, e => e.Ref.Contains(hotfix) && e.Kind is "later_release" or "carried");
        Assert.False(Assert.Single(item.Deployments!, d => d.Release == hotfix).ContainsItem);

        kit.Repo.Checkout("main");
        var next = await kit.ReleaseAsync("docs", ("VERSION", "3"));
        await kit.OnStagingAsync(next);
        item = await kit.Ann.GetWorkItemAsync("shop", 1);
        Assert.Equal("on staging", item.StageLabel);
        Assert.Equal([next], item.Timeline!.Where(e => e.Kind == "later_release").Select(e => e.Ref));
        // Its notes are what is new since its parent on the main line, not since the newest release (the hotfix).
        Assert.DoesNotContain("SHOP-1", (await kit.Admin.GetReleaseAsync("shop", next)).Notes);
        Assert.Contains("SHOP-1", (await kit.Admin.GetReleaseAsync("shop", withItem)).Notes);
    }

    /// <summary>The outcome is evidence: without a verify step it says so rather than "verified".</summary>
    [Fact]
    public async Task ADeploymentWithoutAVerifyStep_SucceedsAs_DeployedWithNoVerifyStep()
    {
        var pipeline = DeploymentKit.Pipeline.Replace("  verify: test ! -e \"BROKEN-$SLIPWAY_ENVIRONMENT\"\n", "");
        Assert.DoesNotContain("verify:", pipeline);
        await using var kit = await DeploymentKit.StartAsync(pipeline: pipeline);
        var release = await kit.ReleaseAsync("first");
        var staging = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(d => d.Release == release), "staging");
        var done = await kit.WaitForDeploymentAsync(staging.Number);
        Assert.Equal(("succeeded", "deployed (no verify step)"), (done.State, done.Outcome));
    }
}
