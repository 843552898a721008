using Slipway.Contracts.Api;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// The talk's last mile, for real: a release rolls across 6 simulated hosts (one sshd each, pinned host keys) behind a
/// real HAProxy while a load client sends requests through it the whole time. Zero failed requests, every host on the
/// new release, versions changing batch by batch; and a release whose health check fails in batch 2 rolls back.
/// </summary>
public sealed class RollingDeploymentTests
{
    [Fact]
    public async Task ARelease_RollsAcrossTheFleet_WithoutAFailedRequest()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 6, window: "2", minHealthy: 3);
        var version = await kit.ReleaseAsync("feature");
        await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
        var d = await kit.Admin.DeployAsync("shop", version, "production");
        d = await kit.WaitForDeploymentAsync(d.Number);
        var summary = await load.StopAsync();
        var log = await kit.LogOfAsync(d);

        Assert.True(d.State == "succeeded", $"{d.State}: {d.Outcome}\n{log}");
        Assert.True(summary.Failures == 0, summary + "\n" + log);
        Assert.True(summary.Requests > 50, summary.ToString());
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal(version, h.ReadCurrentVersion()));
        // Versions changed batch by batch: the old one first, then both, and the new one from every host at the end.
        Assert.Equal("v0", summary.VersionSequence[0]);
        Assert.Contains("v0", summary.VersionCounts.Keys);
        Assert.All(await kit.Fleet.VersionsNowAsync(), v => Assert.Equal(version, v));

        var targets = (await kit.Admin.GetDeploymentAsync("shop", d.Number)).Targets!;
        Assert.Equal(["h1", "h2", "h3", "h4", "h5", "h6"], targets.Select(t => t.Target));
        Assert.Equal([1, 1, 2, 2, 3, 3], targets.Select(t => t.Batch));
        Assert.All(targets, t => Assert.Equal(("succeeded", "ready"), (t.State, t.BalancerState)));
        // Batch by batch: no target of batch 2 started before every target of batch 1 was back.
        Assert.True(targets.Where(t => t.Batch == 2).Min(t => t.StartedAt) >= targets.Where(t => t.Batch == 1).Max(t => t.FinishedAt),
            string.Join("\n", targets));

        // The environment says which release each server runs; every load-balancer change is in the audit log.
        Assert.All(await kit.Admin.ListTargetsAsync("shop", "production"), t => Assert.Equal(version, t.CurrentRelease));
        var audit = await kit.Admin.ListAuditAsync(new Client.AuditFilterOptions(Action: "deployment.start", Limit: 1000));
        foreach (var state in new[] { "drain", "maint", "ready" })
            Assert.Equal(6, audit.Count(e => e.Detail is { } text && text.StartsWith($"load balancer: ", StringComparison.Ordinal) && text.Contains($" set to {state} ")));
        Assert.Contains("activated " + version + " on h1 (batch 1, previous '')", log);

        // The pages show each server: the deployment's batches × targets, the environment's targets with their release.
        using var browser = new Access.AccessTestKit.Browser(kit.Server);
        await browser.SignInWithTokenAsync(Testing.SlipwayTestServer.AdminToken);
        var page = await browser.Http.GetStringAsync($"/projects/shop/deployments/{d.Number}");
        Assert.Contains("id=\"deployment-targets\"", page);
        Assert.Contains("data-target=\"h6\" data-state=\"succeeded\" data-batch=\"3\"", page);
        var envPage = await browser.Http.GetStringAsync("/projects/shop/environments/production");
        Assert.Contains($"data-target=\"h1\" data-release=\"{version}\"", envPage);
        Assert.Contains($"{kit.Fleet.User}@{kit.Fleet.Hosts[0].Address}:{kit.Fleet.Hosts[0].SshPort}", envPage);
        Assert.DoesNotContain("fleet-mixed", envPage);
    }

    [Fact]
    public async Task AHealthCheckFailingInBatch2_StopsTheRollout_AndRollsBackWithoutAFailedRequest()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 6, window: "2", minHealthy: 2);
        var good = await kit.ReleaseAsync("good");
        var first = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", good, "production")).Number);
        Assert.Equal("succeeded", first.State);

        var bad = await kit.ReleaseAsync("broken in batch 2", ("BREAK", "1"));
        await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
        var failed = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", bad, "production")).Number);
        Assert.True(failed.State == "failed", $"{failed.State}: {failed.Outcome}\n{await kit.LogOfAsync(failed)}");
        Assert.Contains("batch 2 failed", failed.Outcome);
        var targets = failed.Targets!.ToDictionary(t => t.Target);
        Assert.Equal(("succeeded", "ready"), (targets["h1"].State, targets["h1"].BalancerState));
        Assert.Equal(("failed", "maint"), (targets["h3"].State, targets["h3"].BalancerState));
        Assert.Contains("did not answer 200", targets["h3"].Reason);
        Assert.Equal("not-run", targets["h5"].State);

        // rollback: auto redeploys the good release through the same drain/enable procedure.
        var rollback = await DeploymentsOfAsync(kit, d => d.Kind == "rollback");
        rollback = await kit.WaitForDeploymentAsync(rollback.Number);
        var summary = await load.StopAsync();
        Assert.True(rollback.State == "succeeded", $"{rollback.State}: {rollback.Outcome}\n{await kit.LogOfAsync(rollback)}");
        Assert.Equal(good, rollback.Release);
        Assert.True(summary.Failures == 0, summary.ToString());
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal(good, h.ReadCurrentVersion()));
        await kit.Fleet.WaitAllUpAsync(TimeSpan.FromSeconds(10));
        Assert.All(await kit.Fleet.VersionsNowAsync(), v => Assert.Equal(good, v)); // what HAProxy serves now is the good release
    }

    private static Task<DeploymentDto> DeploymentsOfAsync(FleetKit kit, Func<DeploymentDto, bool> which) =>
        Deployments.DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "production")).FirstOrDefault(which), "rollback");
}
