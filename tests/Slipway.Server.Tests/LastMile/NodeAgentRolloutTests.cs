using System.Diagnostics;
using Slipway.Agent.Protocol;
using Slipway.Client;
using Slipway.Contracts;
using Slipway.Contracts.Agents;
using Slipway.Contracts.Api;
using Slipway.Server.Tests.Faults;
using Slipway.Testing;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// The talk's agent-per-node option: each simulated host runs its own `slipway agent --target shop/production/hN` (a real
/// process, with the host's environment, as a service on that machine would have). The embedded agent still coordinates the
/// rollout (batches, HAProxy, health checks); every upload and script of a target runs on its node agent, without SSH.
/// </summary>
public sealed class NodeAgentRolloutTests
{
    /// <summary>A <see cref="FleetKit"/> whose targets are served by node agents, one process per host.</summary>
    private sealed class NodeKit : IAsyncDisposable
    {
        public required FleetKit Kit { get; init; }
        public Dictionary<string, Process> Agents { get; } = [];
        private readonly List<TempDirectory> _work = [];

        public static async Task<NodeKit> StartAsync(int hosts, string window, int minHealthy, Func<SimulatedFleet, string, string>? pipeline = null)
        {
            var kit = await FleetKit.StartAsync(hosts, window, minHealthy, pipeline);
            var nodes = new NodeKit { Kit = kit };
            try
            {
                foreach (var h in kit.Fleet.Hosts)
                {
                    await kit.Admin.EditTargetAsync("shop", "production", h.Name,
                        new TargetRequest(null, null, null, null, null, null, HostKey: "", null, NodeAgent: "node-" + h.Name));
                    // A pre-approved token made for that one agent name: any other node agent waits for an admin's approval.
                    nodes.StartAgent(h, (await kit.Admin.CreateAgentTokenAsync("nodes", preApproved: true, agentName: "node-" + h.Name)).Token);
                }
                return nodes;
            }
            catch
            {
                await nodes.DisposeAsync();
                throw;
            }
        }

        public void StartAgent(SimulatedHost h, string token)
        {
            var work = new TempDirectory();
            _work.Add(work);
            Agents[h.Name] = SlipwayProcess.Start(
                ["agent", "--server", Kit.Server.Url, "--token", token, "--work", work.Path, "--name", "node-" + h.Name, "--pool", "nodes",
                 "--target", "shop/production/" + h.Name],
                new Dictionary<string, string> { ["HOST_ROOT"] = h.Root, ["HOST_NAME"] = h.Name, ["APP_PORT"] = h.AppPort.ToString() });
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var agent in Agents.Values) CrashTests.Kill(agent);
            await Kit.DisposeAsync();
            foreach (var w in _work) w.Dispose();
        }
    }

    [Fact]
    public async Task ThreeNodeAgents_RollTheReleaseHostByHost_WithoutAFailedRequest()
    {
        await using var nodes = await NodeKit.StartAsync(hosts: 3, window: "1", minHealthy: 1);
        var kit = nodes.Kit;
        var version = await kit.ReleaseAsync("feature");
        await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
        var d = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", version, "production")).Number, seconds: 180);
        var summary = await load.StopAsync();
        var log = await kit.LogOfAsync(d);

        Assert.True(d.State == "succeeded", $"{d.State}: {d.Outcome}\n{log}");
        Assert.True(summary.Failures == 0, summary + "\n" + log);
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal(version, h.ReadCurrentVersion()));
        Assert.Equal(["v0", version], summary.VersionSequence.Distinct());
        var targets = d.Targets!;
        Assert.Equal([1, 2, 3], targets.Select(t => t.Batch));
        Assert.All(targets, t => Assert.Equal(("succeeded", "ready"), (t.State, t.BalancerState)));
        // The steps ran on the node agents: the script's output came back from each, the upload was written there.
        foreach (var h in kit.Fleet.Hosts)
        {
            Assert.Contains($"[{h.Name}] activated {version} on {h.Name} (batch {h.Name[1..]}, previous ''", log);
            Assert.Matches($@"\[{h.Name}\] uploaded pack/dist/app.tar.gz \(\d+ bytes\) to {h.Root}/incoming/", log);
        }
        Assert.DoesNotContain("ssh", string.Join("\n", targets.Select(t => t.Reason ?? "")));
        // One target's part of the log, as the deployment page's "log" link and `slipway logs RUN --target h2` show it.
        var h2 = await kit.Admin.GetTargetLogAsync(d.RunId!.Value, "deploy", "h2");
        Assert.Contains($"[h2] activated {version} on h2", h2);
        Assert.All(h2.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("[h2] ", line));
        var shown = await kit.Admin.GetTargetAsync("shop", "production", "h2");
        Assert.Equal(("node-h2", version), (shown.NodeAgent, shown.CurrentRelease));
    }

    [Fact]
    public async Task ANodeAgentThatIsNotRunning_FailsItsTargetBeforeItLeavesRotation()
    {
        await using var nodes = await NodeKit.StartAsync(hosts: 3, window: "1", minHealthy: 1);
        var kit = nodes.Kit;
        CrashTests.Kill(nodes.Agents["h2"]);
        var version = await kit.ReleaseAsync("feature");
        var d = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", version, "production")).Number, seconds: 180);
        var log = await kit.LogOfAsync(d);

        Assert.True(d.State == "failed", $"{d.State}: {d.Outcome}\n{log}");
        var targets = d.Targets!.ToDictionary(t => t.Target);
        Assert.Equal(("succeeded", "ready"), (targets["h1"].State, targets["h1"].BalancerState));
        Assert.Equal("failed", targets["h2"].State);
        Assert.Null(targets["h2"].BalancerState);   // never drained: the check comes before the load balancer is touched
        Assert.Contains("node agent node-h2 did not take the step within 20s", targets["h2"].Reason);
        Assert.Equal("not-run", targets["h3"].State);
        Assert.Equal("v0", kit.Fleet.Hosts[1].ReadCurrentVersion());
        Assert.DoesNotContain(SimulatedFleet.HaproxyStatusesOf(await kit.Fleet.HaproxyCommandAsync("show stat")), s => s.Status != "UP");
    }

    [Fact]
    public async Task ANodeAgentIsAdmittedOnlyForTheTargetThatNamesIt_AndNeverTakesAPoolJob()
    {
        await using var nodes = await NodeKit.StartAsync(hosts: 2, window: "1", minHealthy: 1);
        var kit = nodes.Kit;
        var token = (await kit.Admin.CreateAgentTokenAsync("build", preApproved: true)).Token;
        using var client = new AgentProtocolClient(kit.Server.Url);

        var impostor = await Assert.ThrowsAsync<AgentRefusedException>(() => client.RegisterAsync(token,
            new RegisterAgentRequest(ProtocolVersion.Current, "intruder", "build", [], 1, "shop/production/h1"), CancellationToken.None));
        Assert.Contains("does not name agent 'intruder' as its node agent (it names 'node-h1')", impostor.Message);
        var nowhere = await Assert.ThrowsAsync<AgentRefusedException>(() => client.RegisterAsync(token,
            new RegisterAgentRequest(ProtocolVersion.Current, "intruder", "build", [], 1, "shop/production/nope"), CancellationToken.None));
        Assert.Contains("names no deployment target", nowhere.Message);

        // The node agent's own credential cannot take a branch's job, whatever pool it was admitted to.
        var credential = await RegisterNodeAgentAsync(kit, "node-h1b");
        client.UseCredential(credential);
        // Registered with a token not made for its name, it waits for an admin's approval, pre-approved token or not.
        var pending = await Assert.ThrowsAsync<AgentRefusedException>(() => client.NodePollAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Contains("waiting for an admin's approval", pending.Message);
        await kit.Admin.ApproveAgentAsync("node-h1b");
        var refused = await Assert.ThrowsAsync<AgentRefusedException>(() => client.PollAsync(1, TimeSpan.Zero, CancellationToken.None));
        Assert.Contains("is the node agent of shop/production/h1 and takes no pool jobs", refused.Message);
        // And an ordinary agent gets nothing from the node-task poll.
        using var ordinary = new AgentProtocolClient(kit.Server.Url);
        var plain = await ordinary.RegisterAsync(token, new RegisterAgentRequest(ProtocolVersion.Current, "builder-9", "build", [], 1), CancellationToken.None);
        ordinary.UseCredential(plain.Credential);
        var notANode = await Assert.ThrowsAsync<AgentRefusedException>(() => ordinary.NodePollAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Contains("is no target's node agent", notANode.Message);
        // Naming a pool agent on a target neither hands it the target's steps nor stops its pool jobs.
        var builder = await Assert.ThrowsAsync<SlipwayApiException>(() => kit.Admin.EditTargetAsync("shop", "production", "h2",
            new TargetRequest(null, null, null, null, null, null, null, null, NodeAgent: "builder-9")));
        Assert.Contains("agent 'builder-9' is registered as a pool agent", builder.Message);
        Assert.Null(await ordinary.PollAsync(1, TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task ANodeStep_IsStopped_OnceItsDeploymentsJobHasEnded()
    {
        // h1's step waits on a hold file while the deploy agent (a process of its own, short lease) is killed: the deploy
        // job ends as lost, and the step's own limit (the deployment's 1 h) is far away.
        await using var nodes = await NodeKit.StartAsync(hosts: 2, window: "1", minHealthy: 1, FleetKit.HoldablePipeline);
        var kit = nodes.Kit;
        kit.Server.Options.LeaseTimeout = TimeSpan.FromSeconds(5);
        await kit.Admin.EditEnvironmentAsync("shop", "production", new EnvironmentRequest(null, null, null, "deploy-node", null, null, null, null, null));
        using var work = new TempDirectory();
        var deployAgent = await kit.StartDeployAgentAsync("deploy-node", work.Path, "deployer-1");
        var h1 = kit.Fleet.Hosts[0];
        FleetKit.Hold(h1);
        int pid;
        Contracts.Api.DeploymentDto d;
        try
        {
            var version = await kit.ReleaseAsync("feature");
            var number = (await kit.Admin.DeployAsync("shop", version, "production")).Number;
            pid = await FleetKit.WaitHeldAsync(h1);
            CrashTests.Kill(deployAgent);
            d = await kit.WaitForDeploymentAsync(number, 120);
        }
        finally
        {
            CrashTests.Kill(deployAgent);
        }

        Assert.True(d.State == "unknown", $"{d.State}: {d.Outcome}\n{await kit.LogOfAsync(d)}");
        // Nobody waits for the step any more: its node agent learns it within seconds and stops the script.
        await Deployments.DeploymentKit.WaitAsync(() => Task.FromResult(Directory.Exists($"/proc/{pid}") ? null : ""), $"the held script {pid} to be stopped", 30);
        Assert.True(File.Exists(Path.Combine(h1.Root, "hold")));   // it was stopped, not released
        var task = await Deployments.DeploymentKit.WaitAsync(async () =>
            (await RunTasksOfAsync(kit, "h1")).FirstOrDefault(t => t.State == "failed"), "h1's script task to end", 30);
        Assert.Contains("the script was stopped: its rollout's job has ended (failed)", task.Reason);
    }

    /// <summary>The run (script) tasks handed to a target's node agent, oldest first (ids are small and dense here).</summary>
    private static async Task<IReadOnlyList<Targets.NodeTaskRow>> RunTasksOfAsync(FleetKit kit, string target)
    {
        var store = kit.Server.Service<Targets.NodeTaskStore>();
        var found = new List<Targets.NodeTaskRow>();
        for (long id = 1; await store.GetAsync(id) is { } row; id++)
            if (row.Target == target && row.Spec.Contains("\"kind\":\"run\"", StringComparison.Ordinal)) found.Add(row);
        return found;
    }

    /// <summary>Points target h1 at a new node agent name and registers that agent; its credential.</summary>
    private static async Task<string> RegisterNodeAgentAsync(FleetKit kit, string name)
    {
        await kit.Admin.EditTargetAsync("shop", "production", "h1", new TargetRequest(null, null, null, null, null, null, null, null, NodeAgent: name));
        var token = (await kit.Admin.CreateAgentTokenAsync("build", preApproved: true)).Token;
        using var client = new AgentProtocolClient(kit.Server.Url);
        return (await client.RegisterAsync(token, new RegisterAgentRequest(ProtocolVersion.Current, name, "build", [], 1, "shop/production/h1"),
            CancellationToken.None)).Credential;
    }
}
