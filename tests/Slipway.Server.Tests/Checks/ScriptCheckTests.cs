using Slipway.Contracts.Api;
using Slipway.Server.Tests.Deployments;
using Slipway.Testing;

namespace Slipway.Server.Tests.Checks;

/// <summary>
/// Script live checks: the administrator's script runs as a one-job run on the environment's pool, in a checkout of the
/// release current there with the environment's values; such runs are neither builds (no number, not in CI lists) nor
/// deployments. A failing script inside the watch window rolls back like a failing HTTP check.
/// </summary>
public sealed class ScriptCheckTests
{
    [Fact]
    public async Task ScriptCheck_RunsOnThePoolAgainstTheDeployedRelease_TakesNoRunNumber_AndItsFailureInTheWindowRollsBack()
    {
        using var app = new LoopbackHttp();
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0, configure: o => o.LiveCheckInterval = TimeSpan.FromMilliseconds(200));
        var first = await kit.ReleaseAsync("first");
        await kit.OnStagingAsync(first);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync((await kit.Ann.PromoteAsync("shop", "production")).Number)).State);
        var second = await kit.ReleaseAsync("second", ("VERSION", "2"));
        await kit.OnStagingAsync(second);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync((await kit.Ann.PromoteAsync("shop", "production")).Number)).State);
        var ciRuns = (await kit.Admin.ListRunsAsync("shop", 500, kind: "ci")).Count;

        // The script sees the release's files (VERSION is 2 in the second release) and the environment's values.
        var script = $"test \"$SLIPWAY_ENVIRONMENT\" = production && test \"$(cat VERSION)\" = 2 && curl -fsS --max-time 5 {app.Url} >/dev/null && echo \"checked $SLIPWAY_RELEASE\"";
        var check = await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(null, Timeout: "30s", Every: "1s", Watch: "15m", Kind: "script", Script: script));
        Assert.Equal(("script", script), (check.Kind, check.Script));
        await DeploymentKit.WaitAsync(async () => (await kit.Admin.GetEnvironmentHealthAsync("shop", "production")) is { Status: "healthy" } h ? h : null, "healthy", seconds: 60);
        var checkRun = (await kit.Admin.ListRunsAsync("shop", 50, kind: "check")).First(r => r.Status == "succeeded");
        Assert.Equal(((int?)null, "check"), (checkRun.Number, checkRun.Kind));
        Assert.Contains($"checked {second}", await kit.Server.LogAsync(checkRun.Id, "check"));
        Assert.Equal(ciRuns, (await kit.Admin.ListRunsAsync("shop", 500, kind: "ci")).Count);
        await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() => kit.Admin.CancelRunAsync(checkRun.Id));

        // The application breaks: the script fails inside the watch window of the second release, which rolls back.
        app.Status = 500;
        var rollback = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "production")).FirstOrDefault(d => d.Kind == "rollback"),
            "a rollback", seconds: 60);
        Assert.Equal(first, rollback.Release);
        var failed = (await kit.Admin.GetCheckResultsAsync("shop", "production", check.Id)).First(r => !r.Ok);
        Assert.Contains("the script exited with code", failed.Detail);
        Assert.NotNull(failed.Deployment);
    }

    [Fact]
    public async Task ReleaseCheck_RunsTheCheckTheCurrentReleaseOffers_AndItsFailureRollsBackToAReleaseWhoseCheckPasses()
    {
        // The release's own pipeline file offers the check; the server decides that production runs it, how often, and what a failure does.
        var pipeline = DeploymentKit.Pipeline + "\n  checks:\n    - name: smoke\n      run: test ! -e BROKEN-CHECK && echo \"smoke of $SLIPWAY_RELEASE\"\n";
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0, pipeline: pipeline, configure: o => o.LiveCheckInterval = TimeSpan.FromMilliseconds(200));
        var first = await kit.ReleaseAsync("first");
        await kit.OnStagingAsync(first);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync((await kit.Ann.PromoteAsync("shop", "production")).Number)).State);
        var check = await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(null, Timeout: "30s", Every: "1s", Watch: "15m", ReleaseCheck: "smoke"));
        Assert.Equal(("release", "smoke"), (check.Kind, check.ReleaseCheck));
        await DeploymentKit.WaitAsync(async () => (await kit.Admin.GetEnvironmentHealthAsync("shop", "production")) is { Status: "healthy" } h ? h : null, "healthy", seconds: 60);

        // The second release's check fails on production (its checkout has BROKEN-CHECK): inside the watch window, it rolls back.
        var second = await kit.ReleaseAsync("second", ("BROKEN-CHECK", "x"));
        await kit.OnStagingAsync(second);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync((await kit.Ann.PromoteAsync("shop", "production")).Number)).State);
        var rollback = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "production")).FirstOrDefault(d => d.Kind == "rollback"),
            "a rollback", seconds: 60);
        Assert.Equal(first, rollback.Release);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(rollback.Number)).State);
        var history = await kit.Admin.GetCheckResultsAsync("shop", "production", check.Id);
        Assert.Contains(history, r => !r.Ok && r.Detail.Contains("the script exited with code 1"));
        // Back on the first release, its check passes again.
        await DeploymentKit.WaitAsync(async () => (await kit.Admin.GetCheckResultsAsync("shop", "production", check.Id, 1)).FirstOrDefault(r => r.Ok), "the check passing again", seconds: 60);
    }

    [Fact]
    public async Task ScriptCheck_IsValidated_AndNeedsCheckManage()
    {
        await using var kit = await DeploymentKit.StartAsync();
        var empty = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() =>
            kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(null, Kind: "script", Script: "  ")));
        Assert.Contains("needs the script", empty.Message);
        var slow = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() =>
            kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(null, Timeout: "20m", Kind: "script", Script: "true")));
        Assert.Contains("at most 10 min", slow.Message);
        var developer = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() =>
            kit.Dev.AddCheckAsync("shop", "production", new CheckRequest(null, Kind: "script", Script: "cat /etc/passwd")));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, developer.Status);
    }
}
