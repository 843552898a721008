using System.Net;
using Slipway.Client;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// on_failure: pause, Octopus's guided failure done right: a failed target waits, and a deployer decides for that target
/// only — retry, skip or abort — while HAProxy keeps serving (zero failed requests) and the rest of the rollout waits.
/// </summary>
public sealed class GuidedFailureTests
{
    // A host breaks while the file "broken" is in its root: the person "fixes" it by removing the file.
    private static string Paused(SimulatedFleet fleet, string window) => FleetKit.Pipeline(fleet, window)
        .Replace("""if [ -e "$d/BREAK" ] && [ "$SLIPWAY_BATCH" = 2 ]; then rm "$d/VERSION"; fi""", """if [ -e "$HOST_ROOT/broken" ]; then rm "$d/VERSION"; fi""")
        .Replace("rollback: auto", "rollback: manual\n  on_failure: pause");

    [Fact]
    public async Task FailedTargetsWait_ForARetryASkipOrAnAbort_EachForItsTargetOnly()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 6, window: "2", minHealthy: 2, Paused);
        Assert.Contains("on_failure: pause", Paused(kit.Fleet, "2"));
        var version = await kit.ReleaseAsync("feature");
        foreach (var name in new[] { "h3", "h4", "h6" }) File.WriteAllText(Path.Combine(Host(kit, name).Root, "broken"), "");
        await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
        var number = (await kit.Admin.DeployAsync("shop", version, "production")).Number;

        // Batch 2 fails on both its targets; they wait, out of rotation, and the deployment says for what.
        var paused = await WaitAsync(kit, number, d => d.Targets!.Count(t => t.State == "paused") == 2 ? d : null);
        Assert.Equal("running", paused.State);
        Assert.StartsWith("waiting for a decision on h3, h4: retry, skip or abort", paused.Waiting);
        Assert.All(paused.Targets!.Where(t => t.Batch == 2), t => Assert.Equal("maint", t.BalancerState));
        Assert.All(paused.Targets!.Where(t => t.Batch == 3), t => Assert.Equal("pending", t.State));
        var notPaused = await Assert.ThrowsAsync<SlipwayApiException>(() => kit.Admin.DecideTargetAsync("shop", number, "h1", "retry"));
        Assert.Equal((HttpStatusCode.Conflict, "target h1 is not waiting for a decision (it is succeeded)"), (notPaused.Status, notPaused.Message));

        // h3 is fixed and retried: it goes through its whole procedure again. h4 is skipped: it stays out, the rollout goes on.
        File.Delete(Path.Combine(Host(kit, "h3").Root, "broken"));
        var decided = await kit.Admin.DecideTargetAsync("shop", number, "h3", "retry");
        // Pending until the deploy agent, long-polling for it, takes it up (often before this answer is written).
        Assert.True(decided is { PendingDecision: "retry by admin", State: "paused" } or { PendingDecision: null, State: not "paused" }, decided.ToString());
        var twice = await Assert.ThrowsAsync<SlipwayApiException>(() => kit.Admin.DecideTargetAsync("shop", number, "h3", "skip"));
        Assert.True(twice.Message.Contains("already has a decision (retry by admin)") || twice.Message.Contains("is not waiting for a decision"), twice.Message);
        await kit.Admin.DecideTargetAsync("shop", number, "h4", "skip");

        // Batch 3: h6 fails and waits; aborting stops the rollout there.
        var third = await WaitAsync(kit, number, d => d.Targets!.FirstOrDefault(t => t.Target == "h6") is { State: "paused" } ? d : null);
        var targets = third.Targets!.ToDictionary(t => t.Target);
        Assert.Equal(("succeeded", "ready"), (targets["h3"].State, targets["h3"].BalancerState));
        Assert.Equal(("skipped", "maint"), (targets["h4"].State, targets["h4"].BalancerState));
        Assert.StartsWith("skipped by admin after: health", targets["h4"].Reason);
        await kit.Admin.DecideTargetAsync("shop", number, "h6", "abort");
        var done = await kit.WaitForDeploymentAsync(number, 120);
        var summary = await load.StopAsync();
        var log = await kit.LogOfAsync(done);

        Assert.True(done.State == "failed", $"{done.State}: {done.Outcome}\n{log}");
        Assert.Contains("batch 3: aborted by admin at h6", done.Outcome);
        Assert.True(summary.Failures == 0, summary + "\n" + log);
        targets = done.Targets!.ToDictionary(t => t.Target);
        Assert.Equal(("failed", "maint"), (targets["h6"].State, targets["h6"].BalancerState));
        Assert.Contains("the rollout was aborted by admin", targets["h6"].Reason);
        Assert.Equal(("succeeded", "ready"), (targets["h5"].State, targets["h5"].BalancerState));
        Assert.Equal(version, Host(kit, "h3").ReadCurrentVersion());
        Assert.Contains("[h3] retry, decided by admin", log);
        Assert.Contains("[h4] skip, decided by admin", log);
        var audit = await kit.Admin.ListAuditAsync(new AuditFilterOptions(Action: "deployment.start", Limit: 200));
        Assert.Contains(audit, e => e.Detail is { } d && d.StartsWith($"skip of paused target h4 in deployment #{number}"));
        Assert.Contains(audit, e => e.Outcome == "denied" && e.Detail is { } d && d.Contains("retry of h1") && d.Contains("not waiting for a decision"));
    }

    private static SimulatedHost Host(FleetKit kit, string name) => kit.Fleet.Hosts.Single(h => h.Name == name);

    private static Task<Contracts.Api.DeploymentDto> WaitAsync(FleetKit kit, long number, Func<Contracts.Api.DeploymentDto, Contracts.Api.DeploymentDto?> until) =>
        Deployments.DeploymentKit.WaitAsync(async () =>
        {
            var d = await kit.Admin.GetDeploymentAsync("shop", number);
            if (d.State is "succeeded" or "failed" or "cancelled" or "unknown") throw new InvalidOperationException($"deployment ended {d.State}: {d.Outcome}");
            return until(d);
        }, $"deployment #{number}", 120);
}
