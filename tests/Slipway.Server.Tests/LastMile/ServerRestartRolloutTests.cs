using System.Diagnostics;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Server.Tests.Faults;
using Slipway.Testing;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// Issue 13's fault list, "the server killed and restarted in the middle of a batch": a real <c>slipway server</c> child
/// process (embedded agent, SQLite data folder) rolls a release over SSH to a simulated fleet behind a real HAProxy, and
/// is SIGKILLed while batch 1 is out of rotation (held in its ssh step, in maint). Restarted on the same data folder, it
/// resolves the deployment as its agent lost (unknown, never failed, nothing rolled back), keeps what Slipway last set
/// on the balancer, never takes the service down, and <c>deployment repair</c> puts the servers back after a look.
/// </summary>
public sealed class ServerRestartRolloutTests
{
    [Fact]
    public async Task TheServerKilledDuringBatch1_AndRestarted_EndsUnknown_KeepsMaint_AndRepairPutsTheServersBack()
    {
        await using var fleet = await SimulatedFleet.StartAsync(4);
        using var repo = Pipelines.Repo(FleetKit.HoldablePipeline(fleet, "2"));
        using var data = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort.Get()}";
        var env = new Dictionary<string, string> { ["SLIPWAY_BOOTSTRAP_TOKEN"] = SlipwayTestServer.AdminToken, ["SLIPWAY_POLL_SECONDS"] = "3600" };
        string[] args = ["server", "--data", data.Path, "--urls", url, "--agent-slots", "2"];
        using var client = new SlipwayClient(url, SlipwayTestServer.AdminToken);
        var h = fleet.Hosts;
        var wait = TimeSpan.FromSeconds(120);
        var held = new List<int>();
        Process? server = SlipwayProcess.Start(args, env), restarted = null;
        try
        {
            await CrashTests.EventuallyAsync(async () => await client.ListProjectsAsync(), wait, "the server to start");
            await FleetKit.ConfigureAsync(client, fleet, repo.Path, minHealthy: 1);
            // The project's first run (on main) makes the release.
            var version = (await CrashTests.EventuallyAsync(async () => (await client.ListReleasesAsync("shop")).FirstOrDefault(), wait, "the first release")).Version;

            // A generous request timeout: a loaded machine is slow, but a backend without servers answers 503 at once.
            await using var load = LoadClient.Start(fleet.FrontendUrl, concurrency: 2, requestTimeout: TimeSpan.FromSeconds(5));
            FleetKit.Hold(h[0], h[1]);
            var requested = await client.DeployAsync("shop", version, "production");
            held.Add(await FleetKit.WaitHeldAsync(h[0]));
            held.Add(await FleetKit.WaitHeldAsync(h[1]));
            var before = await client.GetDeploymentAsync("shop", requested.Number);
            Assert.Equal("running", before.State);
            Assert.All(before.Targets!.Where(t => t.Batch == 1), t => Assert.Equal(("deploying", "maint"), (t.State, t.BalancerState)));
            Assert.Equal(["MAINT", "MAINT"], (await RolloutInterruptionTests.StatusesAsync(fleet)).Where(s => s.Server is "h1" or "h2").Select(s => s.Status));

            // SIGKILL: the embedded agent dies with the server, in the middle of batch 1.
            Process.Start("kill", ["-KILL", server.Id.ToString()])!.WaitForExit();
            Assert.True(server.WaitForExit(10_000), "the killed server did not exit");
            CrashTests.Kill(server);
            server = null;

            restarted = SlipwayProcess.Start(args, env);
            var lost = await CrashTests.EventuallyAsync(async () =>
                await client.GetDeploymentAsync("shop", requested.Number) is { State: not "running" } d ? d : null, wait, "the interrupted deployment to be resolved");

            // Its agent died with the server: what reached the servers is unknown, so it is neither failed nor rolled back.
            Assert.True(lost.State == "unknown", Describe(lost));
            Assert.Contains("the deploy agent was lost", lost.Outcome);
            Assert.Contains("server restarted", lost.Outcome);
            Assert.Equal(before.StartedAt, lost.StartedAt); // the record survived
            var targets = lost.Targets!.ToDictionary(t => t.Target);
            foreach (var name in new[] { "h1", "h2" })
            {
                // What Slipway last set: it put them in maint and never heard of them again.
                Assert.True((targets[name].State, targets[name].BalancerState) == ("unknown", "maint"), Describe(lost));
                Assert.Contains("the deploy agent was lost while this target was being deployed", targets[name].Reason);
                Assert.NotNull(targets[name].FinishedAt);
            }
            foreach (var name in new[] { "h3", "h4" })
                Assert.True((targets[name].State, targets[name].BalancerState) == ("not-run", null), Describe(lost));
            var deployJob = (await client.GetRunAsync(lost.RunId!.Value)).Stages.SelectMany(s => s.Jobs).Single(j => j.Name == "deploy");
            Assert.Equal((1, "agent_lost", "embedded"), (deployJob.Attempt, deployJob.FailureKind, deployJob.Agent)); // not re-run
            Assert.DoesNotContain(await client.ListDeploymentsAsync("shop", "production"), x => x.Kind == "rollback");
            // HAProxy itself: the two servers are still out of rotation (nobody put them back), the two others serve.
            var statuses = await RolloutInterruptionTests.StatusesAsync(fleet);
            Assert.Equal(["MAINT", "MAINT"], statuses.Where(s => s.Server is "h1" or "h2").Select(s => s.Status));
            Assert.All(statuses.Where(s => s.Server is "h3" or "h4"), s => Assert.StartsWith("UP", s.Status));

            // A person looks: the held scripts lost their connection but may still run on the hosts; end them, and check the
            // servers still serve what they served (the script was held before it changed anything). Nothing else is fixed.
            foreach (var pid in held) RolloutInterruptionTests.KillHeldScript(pid);
            held.Clear(); // killed: never again by PID (it could be reused)
            FleetKit.Unhold(h[0], h[1]);
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
                foreach (var host in h.Take(2))
                    Assert.Equal("v0", (await http.GetStringAsync(host.AppUrl + "/VERSION")).Trim());

            var repair = await client.RepairDeploymentAsync("shop", requested.Number);
            Assert.Equal(["h1", "h2"], repair.Targets.Order());
            var run = await CrashTests.EventuallyAsync(async () =>
                await client.GetRunAsync(repair.RunId) is { Status: "succeeded" or "failed" or "cancelled" } r ? r : null, wait, "the repair run");
            var log = await client.WholeLogAsync(repair.RunId, "repair");
            Assert.True(run.Status == "succeeded", log);
            Assert.Contains("[h1] back in rotation: UP on every load balancer", log);
            Assert.Contains("[h2] back in rotation: UP on every load balancer", log);

            var after = await client.GetDeploymentAsync("shop", requested.Number);
            Assert.Equal("unknown", after.State); // a repair changes no deployment's outcome, only where its servers stand
            var repaired = after.Targets!.ToDictionary(t => t.Target);
            Assert.All(["h1", "h2"], n => Assert.Equal(("restored", "ready"), (repaired[n].State, repaired[n].BalancerState)));
            Assert.All(["h3", "h4"], n => Assert.Equal(("not-run", (string?)null), (repaired[n].State, repaired[n].BalancerState)));
            await RolloutInterruptionTests.AssertAllInRotationAsync(fleet);
            Assert.All(h, x => Assert.Equal("v0", x.ReadCurrentVersion()));

            // The service never went down: kill, restart and repair included.
            var summary = await load.StopAsync();
            Assert.True(summary.Requests > 0 && summary.Failures == 0, summary.ToString());
        }
        finally
        {
            FleetKit.Unhold(h[0], h[1]);
            foreach (var pid in held) RolloutInterruptionTests.KillHeldScript(pid);
            if (server is not null) CrashTests.Kill(server);
            if (restarted is not null) CrashTests.Kill(restarted);
            CrashTests.KillJobsUnder(data.Path);
        }
    }

    private static string Describe(DeploymentDto d) =>
        $"#{d.Number} {d.State}: {d.Outcome}\n" + string.Join('\n', (d.Targets ?? []).Select(t => $"  {t.Target} {t.State} lb {t.BalancerState ?? "-"} {t.Reason}"));
}
