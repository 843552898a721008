using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Slipway.Contracts.Api;
using Slipway.Server.Tests.EndToEnd;
using Slipway.Testing;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Deployments;

/// <summary>
/// What a new user met with deployments (issue 12): a rollback that named itself and the wrong release, a deployment
/// "running" while no agent could take it, deployment runs read as CI runs and eating run numbers, a hint that was not
/// a command, and a promotion of what was already there.
/// </summary>
public sealed class DeploymentNewcomerTests
{
    /// <summary>Moves the id sequences on, so that ids and per-project numbers differ (as with a second project).</summary>
    private static Task ShiftIdsAsync(SlipwayTestServer server) =>
        server.Service<SqlDatabase>().WriteAsync((c, tx) => c.ExecuteAsync(
            "DELETE FROM sqlite_sequence WHERE name IN ('deployments', 'runs'); " +
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('deployments', 100), ('runs', 100)", transaction: tx));

    [Fact]
    public async Task AnAutomaticRollback_NamesTheFailedDeploymentAndTheReleaseItReplaced_DeploymentRunsTakeNoRunNumbers_AndTheLogHintIsACommand()
    {
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0);
        await ShiftIdsAsync(kit.Server);
        var first = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(), "first release");
        Assert.Equal("1.0.1", first.Version);
        await kit.OnStagingAsync(first.Version);
        var promotion = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(promotion.Number)).State);

        // Promoting what production already has is refused, not turned into a deployment that changes nothing.
        var again = await Refused(() => kit.Ann.PromoteAsync("shop", "production"), HttpStatusCode.Conflict);
        Assert.Contains($"lifecycle: {first.Version} is already the current release of 'production' (deployment #{promotion.Number})", again.Message);

        // Two deployment runs happened (staging, production): the next release is still 1.0.2, from CI run #2.
        var second = await kit.ReleaseAsync("breaks production", ("BROKEN-production", "x"), ("VERSION", "2"));
        Assert.Equal("1.0.2", second);
        await kit.OnStagingAsync(second);
        var failedPromotion = await kit.Ann.PromoteAsync("shop", "production");
        var failed = await kit.WaitForDeploymentAsync(failedPromotion.Number);
        Assert.Equal("failed", failed.State);
        var rollback = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "production")).FirstOrDefault(d => d.Kind == "rollback"), "rollback");
        rollback = await kit.WaitForDeploymentAsync(rollback.Number);
        Assert.Equal("succeeded", rollback.State);
        Assert.Equal((failed.Number, first.Version, second), (rollback.RollbackOf, rollback.Release, rollback.PreviousRelease));
        Assert.NotEqual(rollback.Number, rollback.RollbackOf);
        Assert.Contains($"deploying {first.Version} to production (previous {second})", await kit.Server.LogAsync(rollback.RunId!.Value, "deploy"));

        // The CLI says the same, and its log hint is a command that works.
        var show = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "deployment", "show", "shop", rollback.Number.ToString());
        Assert.True(show.Exit == 0, show.Err);
        Assert.Contains($"replacing: {second}", show.Out);
        Assert.Contains($"rollback after deployment #{failed.Number} failed", show.Out);
        var hint = Regex.Match(show.Out, @"\(slipway (logs [^)]+)\)");
        Assert.True(hint.Success, show.Out);
        var logs = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, hint.Groups[1].Value.Split(' '));
        Assert.True(logs.Exit == 0, logs.Err);
        Assert.Contains($"deploying {first.Version} to production", logs.Out);
        var list = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "deployment", "list", "shop", "--env", "production");
        Assert.Contains($"replacing {second}  after #{failed.Number} failed", list.Out);

        // Deployment runs: no CI number, their deployment's number and kind; the CI runs are numbered without gaps.
        var all = await kit.Admin.ListRunsAsync("shop");
        var ci = await kit.Admin.ListRunsAsync("shop", kind: "ci");
        var deploymentRuns = await kit.Admin.ListRunsAsync("shop", kind: "deployment");
        Assert.Equal(all.Count, ci.Count + deploymentRuns.Count);
        Assert.Equal([2, 1], ci.Select(r => r.Number!.Value));
        Assert.All(ci, r => Assert.Equal("ci", r.Kind));
        Assert.All(deploymentRuns, r => Assert.Equal(("deployment", (int?)null), (r.Kind, r.Number)));
        Assert.Contains(deploymentRuns, r => r.Id == rollback.RunId && r.Deployment == rollback.Number && r.Trigger == $"deployment #{rollback.Number} to production");
        var main = (await kit.Admin.ListBranchesAsync("shop")).Single(b => b.Name == "main");
        Assert.Equal(("ci", ci[0].Id), (main.LatestRun!.Kind, main.LatestRun.Id)); // the branch's status is its build, not a deployment
        var runList = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "run", "list", "shop");
        Assert.Matches($@"(?m)^\s*{rollback.RunId}\s+deployment #{rollback.Number}\s", runList.Out);
        Assert.Matches($@"(?m)^\s*{ci[0].Id}\s+#2\s", runList.Out);

        // run start names the run as everything else does: #N, with the id the run commands take.
        var start = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "run", "start", "shop", "--branch", "main");
        Assert.True(start.Exit == 0, start.Err);
        var started = (await kit.Admin.ListRunsAsync("shop", kind: "ci"))[0];
        Assert.Equal(3, started.Number);
        Assert.NotEqual(started.Id, (long)started.Number!.Value);
        Assert.Equal($"started run #3 (id {started.Id})", start.Out.Trim());
        await kit.Server.WaitForRunAsync(started.Id);
        var runShow = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "run", "show", started.Id.ToString());
        Assert.StartsWith($"run #3 (id {started.Id}) of shop:", runShow.Out);
    }

    [Fact]
    public async Task ADeploymentWhosePoolHasNoAgent_SaysItWaitsForOne_OnTheDeploymentTheRunAndTheCli_AndCreatingSuchAnEnvironmentWarns()
    {
        await using var kit = await DeploymentKit.StartAsync(productionPool: "deploy-prod", productionApprovals: 1);
        var version = (await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(), "first release")).Version;
        await kit.OnStagingAsync(version);

        // Creating an environment on a pool nobody serves warns (API and CLI) and says how to start its agent; one on a served pool does not.
        var lonely = await kit.Admin.CreateEnvironmentAsync("shop", new EnvironmentRequest("dr", 5, true, "disaster", [], 0, null, false, null));
        var warning = Assert.Single(lonely.Warnings!);
        Assert.Contains("no agent of pool 'disaster' is connected", warning);
        Assert.Contains("slipway agent token create --pool disaster", warning);
        Assert.Contains("slipway agent --server URL --token TOKEN --pool disaster", warning);
        Assert.Null((await kit.Admin.CreateEnvironmentAsync("shop", new EnvironmentRequest("qa", 6, true, "build", [], 0, null, false, null))).Warnings);
        var cli = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "env", "create", "shop", "dr2", "--position", "7", "--optional", "true", "--pool", "disaster");
        Assert.True(cli.Exit == 0, cli.Err);
        Assert.Contains("warning: no agent of pool 'disaster' is connected", cli.Err);

        // Approved, it holds production ("running") but says what it waits for; so do its run and the CLI.
        var promotion = await kit.Ann.PromoteAsync("shop", "production");
        // Asking again while it is on its way is refused too.
        Assert.Contains($"is already on its way to 'production': deployment #{promotion.Number} is awaiting approval",
            (await Refused(() => kit.Ann.PromoteAsync("shop", "production"), HttpStatusCode.Conflict)).Message);
        Assert.Null(promotion.Waiting);
        await kit.Bob.ApproveDeploymentAsync("shop", promotion.Number, null);
        const string Waiting = "waiting for an agent of pool deploy-prod (none connected)";
        var running = await kit.WaitForDeploymentAsync(promotion.Number, d => d.State == "running" && d.Waiting is not null);
        Assert.Equal(Waiting, running.Waiting);
        Assert.Equal(Waiting, (await kit.Admin.ListDeploymentsAsync("shop", "production"))[0].Waiting);
        Assert.Equal(Waiting, (await kit.Admin.GetDashboardAsync("shop")).Environments.Single(c => c.Environment == "production").Latest!.Waiting);
        var run = await kit.Admin.GetRunAsync(running.RunId!.Value);
        Assert.Equal((Waiting, "deployment", (int?)null, promotion.Number), (run.Waiting, run.Kind, run.Number, run.Deployment));
        var show = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "deployment", "show", "shop", promotion.Number.ToString());
        Assert.Contains(Waiting, show.Out);
        var runShow = await CliRunner.AsAsync(kit.Server, SlipwayTestServer.AdminToken, "run", "show", run.Id.ToString());
        Assert.Matches($@"^run {run.Id} \(deployment #{promotion.Number}\) of shop: \w+ — {Regex.Escape(Waiting)}", runShow.Out);

        // A CI run whose jobs have an agent says nothing of the kind.
        var ci = (await kit.Admin.ListRunsAsync("shop", kind: "ci"))[0];
        Assert.Null((await kit.Admin.GetRunAsync(ci.Id)).Waiting);
        await kit.Admin.CancelDeploymentAsync("shop", promotion.Number);
        Assert.Equal("cancelled", (await kit.WaitForDeploymentAsync(promotion.Number)).State);
    }
}
