using System.Net;
using Slipway.Client;
using Slipway.Testing;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// deployment repair N: a failed batch leaves its targets in maintenance by design (GitLab's "8 servers left drained" is
/// what must never happen silently); once a person has looked and fixed them, one command puts them back in rotation
/// through the same HAProxy, with zero failed requests, and the deployment's per-target record says so.
/// </summary>
public sealed class RolloutRepairTests
{
    private static string WithoutAutoRollback(SimulatedFleet fleet, string window) => FleetKit.Pipeline(fleet, window).Replace("rollback: auto", "rollback: manual");

    [Fact]
    public async Task AfterAFailedBatch_RepairPutsItsTargetsBackInRotation_OnceFixed_AndRefusesWhatIsNotSafe()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 4, window: "2", minHealthy: 1, WithoutAutoRollback);
        var good = await kit.ReleaseAsync("good");
        var first = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", good, "production")).Number, 180);
        Assert.Equal("succeeded", first.State);
        var nothing = await Assert.ThrowsAsync<SlipwayApiException>(() => kit.Admin.RepairDeploymentAsync("shop", first.Number));
        Assert.Equal((HttpStatusCode.Conflict, $"nothing to repair: deployment #{first.Number} left no target out of rotation"), (nothing.Status, nothing.Message));

        var bad = await kit.ReleaseAsync("broken in batch 2", ("BREAK", "1"));
        var failed = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", bad, "production")).Number, 180);
        Assert.True(failed.State == "failed", $"{failed.State}: {failed.Outcome}\n{await kit.LogOfAsync(failed)}");
        Assert.Equal(["maint", "maint"], failed.Targets!.Where(t => t.Batch == 2).Select(t => t.BalancerState));
        Assert.DoesNotContain(await kit.Admin.ListDeploymentsAsync("shop", "production"), d => d.Kind == "rollback");
        Assert.Equal(2, Maint(await kit.Fleet.HaproxyCommandAsync("show stat")));
        // The earlier deployment's record is stale now: only the latest one can be repaired.
        var stale = await Assert.ThrowsAsync<SlipwayApiException>(() => kit.Admin.RepairDeploymentAsync("shop", first.Number));
        Assert.Contains($"deployment #{failed.Number} of the same environment started after #{first.Number}", stale.Message);

        // Only the environment's deployers repair: with production's deployers narrowed to analysts, the admin is refused.
        await kit.Admin.EditEnvironmentAsync("shop", "production", new Contracts.Api.EnvironmentRequest(null, null, null, null, ["role:analyst"], null, null, null, null));
        var notDeployer = await Assert.ThrowsAsync<SlipwayApiException>(() => kit.Admin.RepairDeploymentAsync("shop", failed.Number));
        Assert.Equal(HttpStatusCode.Forbidden, notDeployer.Status);
        Assert.Contains("is not among those who may deploy to 'production'", notDeployer.Message);
        await kit.Admin.EditEnvironmentAsync("shop", "production", new Contracts.Api.EnvironmentRequest(null, null, null, null, [], null, null, null, null));

        // A person looks, and fixes the two servers (the broken release removed the file the health check reads).
        foreach (var h in kit.Fleet.Hosts.Skip(2)) File.WriteAllText(Path.Combine(h.Root, "current", "VERSION"), bad + "\n");
        await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
        var repair = await kit.Admin.RepairDeploymentAsync("shop", failed.Number);
        Assert.Equal(["h3", "h4"], repair.Targets);
        var run = await Deployments.DeploymentKit.WaitAsync(async () =>
            await kit.Admin.GetRunAsync(repair.RunId) is { Status: "succeeded" or "failed" or "cancelled" } r ? r : null, "the repair run", 120);
        var summary = await load.StopAsync();
        var log = await kit.Admin.WholeLogAsync(repair.RunId, "repair");
        Assert.True(run.Status == "succeeded", log);
        Assert.True(summary.Failures == 0, summary + "\n" + log);
        Assert.Contains("[h3] back in rotation: UP on every load balancer", log);

        var after = await kit.Admin.GetDeploymentAsync("shop", failed.Number);
        Assert.Equal("failed", after.State);   // a repair changes no deployment's outcome, only where its servers stand
        var targets = after.Targets!.ToDictionary(t => t.Target);
        Assert.All(["h3", "h4"], n => Assert.Equal(("restored", "ready"), (targets[n].State, targets[n].BalancerState)));
        Assert.Equal(0, Maint(await kit.Fleet.HaproxyCommandAsync("show stat")));
        await kit.Fleet.WaitAllUpAsync(TimeSpan.FromSeconds(30));
        var again = await Assert.ThrowsAsync<SlipwayApiException>(() => kit.Admin.RepairDeploymentAsync("shop", failed.Number));
        Assert.StartsWith("nothing to repair", again.Message);
        // The evidence export carries each target's result, the CSV as well as the JSON.
        var csv = await kit.Admin.ExportDeploymentsAsync("shop", "production", null, null, "csv");
        Assert.Contains(",targets,", csv.Split('\n')[0] + ",");
        Assert.Contains("h3 batch 2 restored lb ready: put back in rotation by a repair", csv);
        var audit = await kit.Admin.ListAuditAsync(new AuditFilterOptions(Action: "deployment.start", Limit: 200));
        Assert.Contains(audit, e => e.Detail is { } detail && detail.Contains($"repair of deployment #{failed.Number}") && detail.Contains("h3, h4 to be put back in rotation"));
        Assert.Contains(audit, e => e.Detail is { } detail && detail.Contains("load balancer: h3 set to ready (was maint)"));
    }

    private static int Maint(string showStat) => SimulatedFleet.HaproxyStatusesOf(showStat).Count(s => s.Status == "MAINT");
}
