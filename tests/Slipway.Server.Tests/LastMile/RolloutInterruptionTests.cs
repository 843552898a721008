using System.Diagnostics;
using Slipway.Contracts.Api;
using Slipway.Server.Tests.Faults;
using Slipway.Testing;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// A rolling deployment interrupted, on a real fleet (sshd per host, HAProxy, a load client): a cancel in the middle of a
/// batch, the deploy agent killed while a batch is out of rotation, two deployments of one environment asked for at once,
/// and a deploy agent without Ansible. A batch is held in the middle of its ssh step (out of rotation, in maint) with
/// <see cref="FleetKit.Hold"/>, so the interruption lands exactly there.
/// </summary>
public sealed class RolloutInterruptionTests
{
    private const string DeployPool = "deploy-prod";

    [Fact]
    public async Task ACancelDuringBatch2_LetsThatBatchFinish_StartsNoOther_AndLeavesNoServerOutOfRotation()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 6, window: "2", minHealthy: 2, FleetKit.HoldablePipeline);
        var version = await kit.ReleaseAsync("feature");
        // A short lease (the options are read per lease), so the batch is held after the cancel for longer than the lease:
        // the agent must keep renewing it, or the deployment would end unknown instead of cancelled.
        var lease = TimeSpan.FromSeconds(5);
        kit.Server.Options.LeaseTimeout = lease;
        var h = kit.Fleet.Hosts;
        FleetKit.Hold(h[2], h[3]);
        try
        {
            await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
            var requested = await kit.Admin.DeployAsync("shop", version, "production");
            await FleetKit.WaitHeldAsync(h[2]);
            await FleetKit.WaitHeldAsync(h[3]);
            var during = await kit.Admin.GetDeploymentAsync("shop", requested.Number);
            Assert.All(during.Targets!.Where(t => t.Batch == 2), t => Assert.Equal(("deploying", "maint"), (t.State, t.BalancerState)));

            var cancelledAt = DateTimeOffset.UtcNow;
            var cancel = await kit.Admin.CancelDeploymentAsync("shop", requested.Number);
            // The batch is out of rotation: the cancel does not cut it off, the deployment runs on until it is back.
            Assert.Equal("running", cancel.State);
            await Task.Delay(2 * lease);
            var stillHeld = await kit.Admin.GetDeploymentAsync("shop", requested.Number);
            Assert.Equal("running", stillHeld.State);
            Assert.All(stillHeld.Targets!.Where(t => t.Batch == 2), t => Assert.Equal(("deploying", "maint"), (t.State, t.BalancerState)));
            Assert.All(stillHeld.Targets!.Where(t => t.Batch == 3), t => Assert.Equal("pending", t.State));
            FleetKit.Unhold(h[2], h[3]);

            var d = await kit.WaitForDeploymentAsync(requested.Number, 180);
            var summary = await load.StopAsync();
            var log = await kit.LogOfAsync(d);
            Assert.True(d.State == "cancelled", $"{d.State}: {d.Outcome}\n{log}");
            var deployStep = d.Steps!.Single(x => x.Name == "deploy");
            Assert.True(deployStep.FailureReason?.Contains("cancelled before batch 3") == true, $"{deployStep.Status}: {deployStep.FailureReason}\n{log}");
            var targets = d.Targets!.ToDictionary(t => t.Target);
            foreach (var name in new[] { "h1", "h2", "h3", "h4" })
                Assert.Equal(("succeeded", "ready"), (targets[name].State, targets[name].BalancerState));
            // The held batch finished after the cancel; the next one never started: never drained, still on the old release
            // (its upload may have been staged ahead into incoming/, which changes nothing the server serves).
            Assert.All(new[] { "h3", "h4" }, n => Assert.True(targets[n].FinishedAt > cancelledAt, $"{n} finished at {targets[n].FinishedAt}, cancelled at {cancelledAt}"));
            foreach (var name in new[] { "h5", "h6" })
            {
                Assert.True((targets[name].State, targets[name].BalancerState) == ("not-run", null), Describe(d));
                Assert.Null(targets[name].StartedAt);
            }
            Assert.DoesNotContain("batch 3:", log);
            Assert.All(h.Take(4), x => Assert.Equal(version, x.ReadCurrentVersion()));
            Assert.All(h.Skip(4), x => Assert.Equal("v0", x.ReadCurrentVersion()));
            // HAProxy itself: every server in rotation, none drained or in maintenance.
            await AssertAllInRotationAsync(kit.Fleet);
            Assert.True(summary.Failures == 0, summary + "\n" + log);
            Assert.DoesNotContain(await kit.Admin.ListDeploymentsAsync("shop", "production"), x => x.Kind == "rollback");
        }
        finally { FleetKit.Unhold(h[2], h[3]); }
    }

    [Fact]
    public async Task TheDeployAgentKilledDuringBatch1_EndsUnknown_KeepsTheLastBalancerState_AndFreesTheEnvironment()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 6, window: "2", minHealthy: 2, FleetKit.HoldablePipeline);
        await OnDeployPoolAsync(kit);
        var version = await kit.ReleaseAsync("feature");
        // A short lease, so the lost agent is noticed within seconds (the options are read per lease).
        kit.Server.Options.LeaseTimeout = TimeSpan.FromSeconds(5);
        var h = kit.Fleet.Hosts;
        using var work = new TempDirectory();
        using var work2 = new TempDirectory();
        var agent = await StartDeployAgentAsync(kit, work.Path, "prod-1");
        Process? second = null;
        FleetKit.Hold(h[0], h[1]);
        try
        {
            var requested = await kit.Admin.DeployAsync("shop", version, "production");
            var pids = new[] { await FleetKit.WaitHeldAsync(h[0]), await FleetKit.WaitHeldAsync(h[1]) };
            var before = await kit.Admin.GetDeploymentAsync("shop", requested.Number);
            Assert.All(before.Targets!.Where(t => t.Batch == 1), t => Assert.Equal(("deploying", "maint"), (t.State, t.BalancerState)));
            Assert.Equal(["MAINT", "MAINT"], (await StatusesAsync(kit.Fleet)).Where(s => s.Server is "h1" or "h2").Select(s => s.Status));

            Process.Start("kill", ["-KILL", agent.Id.ToString()])!.WaitForExit();
            var lost = await kit.WaitForDeploymentAsync(requested.Number, 120);

            Assert.True(lost.State == "unknown", $"{lost.State}: {lost.Outcome}");
            Assert.Contains("the deploy agent was lost", lost.Outcome);
            var targets = lost.Targets!.ToDictionary(t => t.Target);
            foreach (var name in new[] { "h1", "h2" })
            {
                // Unknown, with what was last known: Slipway had put it in maint and never heard of it again.
                Assert.True((targets[name].State, targets[name].BalancerState) == ("unknown", "maint"), Describe(lost));
                Assert.Contains("the deploy agent was lost while this target was being deployed", targets[name].Reason);
                Assert.NotNull(targets[name].FinishedAt);
            }
            foreach (var name in new[] { "h3", "h4", "h5", "h6" })
                Assert.True((targets[name].State, targets[name].BalancerState) == ("not-run", null), Describe(lost));
            // The DTO says what HAProxy says: the two servers are still out of rotation, nobody put them back.
            var statuses = await StatusesAsync(kit.Fleet);
            Assert.Equal(["MAINT", "MAINT"], statuses.Where(s => s.Server is "h1" or "h2").Select(s => s.Status));
            Assert.All(statuses.Where(s => s.Server is not ("h1" or "h2")), s => Assert.StartsWith("UP", s.Status));
            Assert.DoesNotContain(await kit.Admin.ListDeploymentsAsync("shop", "production"), x => x.Kind == "rollback");
            var lostJob = (await kit.Admin.GetRunAsync(lost.RunId!.Value)).Stages.SelectMany(s => s.Jobs).Single(j => j.Name == "deploy");
            Assert.Equal((1, "agent_lost", "prod-1"), (lostJob.Attempt, lostJob.FailureKind, lostJob.Agent)); // not re-run anywhere

            // The held scripts lost their connection but still run on the hosts: end them before they go on and restart services.
            foreach (var pid in pids) KillHeldScript(pid);
            FleetKit.Unhold(h[0], h[1]);

            // The environment lock is free: the next deployment starts at once (no agent yet), and a new agent completes it,
            // bringing the two servers left in maint back into rotation.
            var again = await kit.Admin.DeployAsync("shop", version, "production");
            await Deployments.DeploymentKit.WaitAsync(async () => await kit.Admin.GetDeploymentAsync("shop", again.Number) is { State: "running", RunId: not null } x ? x : null,
                "the next deployment to take the environment", 60);
            second = await StartDeployAgentAsync(kit, work2.Path, "prod-2");
            var redeployed = await kit.WaitForDeploymentAsync(again.Number, 180);
            Assert.True(redeployed.State == "succeeded", $"{redeployed.State}: {redeployed.Outcome}\n{await kit.LogOfAsync(redeployed)}");
            Assert.Equal(lost.Release, redeployed.Release);
            Assert.All(redeployed.Targets!, t => Assert.Equal(("succeeded", "ready"), (t.State, t.BalancerState)));
            Assert.All(h, x => Assert.Equal(version, x.ReadCurrentVersion()));
            await AssertAllInRotationAsync(kit.Fleet);
        }
        finally
        {
            FleetKit.Unhold(h[0], h[1]);
            CrashTests.Kill(agent);
            if (second is not null) CrashTests.Kill(second);
        }
    }

    [Fact]
    public async Task TwoDeploymentsOfOneEnvironmentAskedAtOnce_RunOneAfterTheOther_AndBothSucceed()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 4, window: "2", minHealthy: 1, FleetKit.HoldablePipeline);
        var v1 = await kit.ReleaseAsync("first");
        var v2 = await kit.ReleaseAsync("second");
        var h = kit.Fleet.Hosts;
        FleetKit.Hold(h[0]); // whichever starts first waits on h1, so the other is seen waiting
        try
        {
            await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
            var asked = await Task.WhenAll(kit.Admin.DeployAsync("shop", v1, "production"), kit.Admin.DeployAsync("shop", v2, "production"));
            await FleetKit.WaitHeldAsync(h[0]);
            var now = await Task.WhenAll(asked.Select(a => kit.Admin.GetDeploymentAsync("shop", a.Number)));
            var first = Assert.Single(now, x => x.State == "running");
            var waiting = Assert.Single(now, x => x.State != "running");
            // It waits for the environment: queued, not started, nothing planned or touched.
            Assert.Equal("queued", waiting.State);
            Assert.Null(waiting.StartedAt);
            Assert.Null(waiting.RunId);
            Assert.Empty(waiting.Targets ?? []);
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal("queued", (await kit.Admin.GetDeploymentAsync("shop", waiting.Number)).State);
            FleetKit.Unhold(h[0]);

            var a = await kit.WaitForDeploymentAsync(first.Number, 180);
            var b = await kit.WaitForDeploymentAsync(waiting.Number, 180);
            var summary = await load.StopAsync();
            Assert.True(a.State == "succeeded", $"{a.State}: {a.Outcome}\n{await kit.LogOfAsync(a)}");
            Assert.True(b.State == "succeeded", $"{b.State}: {b.Outcome}\n{await kit.LogOfAsync(b)}");
            // The second started only after the first finished: the deployments and every target's work never overlap.
            Assert.True(b.StartedAt >= a.FinishedAt, $"#{b.Number} started {b.StartedAt:O}, #{a.Number} finished {a.FinishedAt:O}");
            Assert.Equal(a.Release, b.PreviousRelease); // what it replaced was decided when it took the lock
            Assert.All(a.Targets!.Concat(b.Targets!), t => Assert.True(t.StartedAt is not null && t.FinishedAt is not null, t.ToString()));
            var lastOfFirst = a.Targets!.Max(t => t.FinishedAt!.Value);
            var firstOfSecond = b.Targets!.Min(t => t.StartedAt!.Value);
            Assert.True(firstOfSecond >= lastOfFirst, $"#{b.Number}'s first target started {firstOfSecond:O} before #{a.Number}'s last finished {lastOfFirst:O}");
            Assert.All(a.Targets!.Concat(b.Targets!), t => Assert.Equal(("succeeded", "ready"), (t.State, t.BalancerState)));
            Assert.All(h, x => Assert.Equal(b.Release, x.ReadCurrentVersion()));
            await AssertAllInRotationAsync(kit.Fleet);
            Assert.True(summary.Failures == 0, summary.ToString());
        }
        finally { FleetKit.Unhold(h[0]); }
    }

    private static string AnsiblePipeline(SimulatedFleet fleet, string window) => $$"""
        stages:
          - name: build
            jobs:
              - name: pack
                run: |
                  mkdir -p dist app && echo blob > app/blob && tar czf dist/app.tar.gz -C app .
                artifacts: [dist/app.tar.gz]
        release:
          branch: main
          version: "1.0.{run}"
        deploy:
          targets: web
          rolling: { window: {{window}} }
          steps:
            - upload: { from: pack/dist/app.tar.gz, to: "{{fleet.Root}}/hosts/$SLIPWAY_TARGET/incoming/" }
            - ansible: { playbook: deploy/site.yml }
            - health: { http: "http://$SLIPWAY_TARGET_HOST:{{fleet.Hosts[0].AppPort}}/VERSION", expect: 200, within: 5s }
          rollback: auto
        """;

    private const string Playbook = """
        - hosts: web
          gather_facts: false
          tasks:
            - name: activate the release
              shell: echo "$RELEASE" > "$HOST_ROOT/activated"
              environment: { RELEASE: "{{ SLIPWAY_RELEASE }}" }
        """;

    [Fact]
    public async Task ADeployAgentWithoutAnsible_FailsTheDeployment_NamingThePackage_BeforeAnyTargetIsTouched()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 3, window: "1", minHealthy: 1, AnsiblePipeline, ("deploy/site.yml", Playbook));
        await OnDeployPoolAsync(kit);
        var version = await kit.ReleaseAsync("feature");
        using var work = new TempDirectory();
        using var bin = new TempDirectory();
        // The agent's PATH: a folder with only what an agent needs, and no ansible-playbook (which this machine has).
        Assert.True(File.Exists("/usr/bin/ansible-playbook"), "the test machine should have Ansible, to show the agent's PATH is what hides it");
        foreach (var tool in AgentTools)
            if (File.Exists("/usr/bin/" + tool)) File.CreateSymbolicLink(Path.Combine(bin.Path, tool), "/usr/bin/" + tool);
        Assert.False(File.Exists(Path.Combine(bin.Path, "ansible-playbook")));
        var agent = await StartDeployAgentAsync(kit, work.Path, "prod-noansible", new Dictionary<string, string>
        {
            ["PATH"] = bin.Path,
            // bwrap gives jobs a fresh /tmp, where this PATH folder is: this agent only runs the rollout (in its own process), no sandboxed job.
            ["SLIPWAY_AGENT_SANDBOX"] = "none",
        });
        try
        {
            await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 2);
            var d = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", version, "production")).Number, 180);
            var summary = await load.StopAsync();
            var log = await kit.LogOfAsync(d);

            Assert.True(d.State == "failed", $"{d.State}: {d.Outcome}\n{log}");
            Assert.Contains("'ansible-playbook' is not installed on the deploy agent", d.Outcome);
            Assert.Contains("apt-get install ansible", d.Outcome);
            Assert.Contains("no target was touched", d.Outcome);
            Assert.Contains("apt-get install ansible", log);
            // It reached that agent: the agent's own check refused it, not the server's plan.
            var job = (await kit.Admin.GetRunAsync(d.RunId!.Value)).Stages.SelectMany(x => x.Jobs).Single(j => j.Name == "deploy");
            Assert.Equal(("failed", "prod-noansible"), (job.Status, job.Agent));
            Assert.All(d.Targets!, t => Assert.Equal(("not-run", (string?)null, (DateTimeOffset?)null), (t.State, t.BalancerState, t.StartedAt)));
            Assert.All(kit.Fleet.Hosts, x =>
            {
                Assert.Equal("v0", x.ReadCurrentVersion());
                Assert.Empty(Directory.GetFiles(x.Incoming)); // not even the upload, which would have come first
                Assert.False(File.Exists(Path.Combine(x.Root, "activated")));
            });
            await AssertAllInRotationAsync(kit.Fleet);
            Assert.True(summary.Failures == 0, summary.ToString());
            // Nothing to roll back over: the previous release is still everywhere (and there was none before).
            Assert.DoesNotContain(await kit.Admin.ListDeploymentsAsync("shop", "production"), x => x.Kind == "rollback");
        }
        finally
        {
            CrashTests.Kill(agent);
        }
    }

    /// <summary>
    /// The deploy agent's PATH: a machine's usual tools, without Ansible. A rollout itself needs none of them (the agent
    /// fetches the release, connects over SSH and talks to HAProxy in its own process; ansible-playbook and, for it, ssh
    /// and ssh-keygen are the only programs of a rollout), so nothing else can be what fails.
    /// </summary>
    private static readonly string[] AgentTools = ["bash", "sh", "env", "git", "tar", "gzip", "ssh", "ssh-keygen", "setsid", "cat", "kill"];

    /// <summary>The environment's deployments go to pool deploy-prod, served by no agent but those the test starts.</summary>
    private static Task OnDeployPoolAsync(FleetKit kit) =>
        kit.Admin.EditEnvironmentAsync("shop", "production", new EnvironmentRequest(null, null, null, DeployPool, null, null, null, null, null));

    private static Task<Process> StartDeployAgentAsync(FleetKit kit, string work, string name, IReadOnlyDictionary<string, string>? env = null) =>
        kit.StartDeployAgentAsync(DeployPool, work, name, env);

    /// <summary>Kills a held ssh step's shell (its PID as it wrote it), checking it still is a shell first.</summary>
    internal static void KillHeldScript(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            if (!File.ReadAllText($"/proc/{pid}/cmdline").Contains("sh")) return;
            p.Kill(entireProcessTree: true);
            p.WaitForExit(5000);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException) { }
    }

    private static string Describe(DeploymentDto d) =>
        $"#{d.Number} {d.State}: {d.Outcome}\n" + string.Join('\n', (d.Targets ?? []).Select(t => $"  {t.Target} {t.State} lb {t.BalancerState ?? "-"} {t.Reason}"));

    internal static async Task<List<(string Server, string Status)>> StatusesAsync(SimulatedFleet fleet) =>
        SimulatedFleet.HaproxyStatusesOf(await fleet.HaproxyCommandAsync("show stat")).ToList();

    /// <summary>
    /// HAProxy, asked directly: every server of the backend UP, and none in drain or maintenance by the runtime API
    /// (<c>show servers state</c>: srv_admin_state 0, srv_op_state 2 = running).
    /// </summary>
    internal static async Task AssertAllInRotationAsync(SimulatedFleet fleet)
    {
        await fleet.WaitAllUpAsync(TimeSpan.FromSeconds(30));
        var state = await fleet.HaproxyCommandAsync($"show servers state {SimulatedFleet.Backend}");
        var lines = state.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines.First(l => l.StartsWith("# ", StringComparison.Ordinal))[2..].Split(' ');
        int name = Array.IndexOf(header, "srv_name"), op = Array.IndexOf(header, "srv_op_state"), admin = Array.IndexOf(header, "srv_admin_state");
        var servers = lines.Where(l => !l.StartsWith('#') && l.Contains(' ')).Select(l => l.Split(' ')).ToList();
        Assert.Equal(fleet.Hosts.Select(x => x.Name).Order(), servers.Select(f => f[name]).Order());
        Assert.All(servers, f => Assert.True((f[op], f[admin]) == ("2", "0"), $"{f[name]}: srv_op_state {f[op]}, srv_admin_state {f[admin]}\n{state}"));
    }
}
