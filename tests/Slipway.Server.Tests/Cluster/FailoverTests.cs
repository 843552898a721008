using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Slipway.Core.Nodes;
using Slipway.Server.Tests.Faults;
using Slipway.Server.Tests.LastMile;
using Slipway.Testing;
using Slipway.Testing.Cluster;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.Cluster;

/// <summary>The three-node cluster the failover tests share: started once for the class (about 15 s), torn down after it.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public ClusterKit Kit { get; private set; } = null!;

    public async Task InitializeAsync() => Kit = await ClusterKit.StartAsync(nodes: 3, dutyLeaseSeconds: 3,
        environment: new Dictionary<string, string> { ["SLIPWAY_LEASE_SECONDS"] = "10" });

    public async Task DisposeAsync() => await Kit.DisposeAsync();
}

/// <summary>
/// Issue 15's failover cases, with real parts: three <c>slipway server</c> processes on one PostgreSQL, one S3-compatible
/// server (s3rver) and HAProxy in front. One class, so the cluster starts once; the tests run one after another and each
/// leaves every node running.
/// </summary>
public sealed class FailoverTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private ClusterKit Kit => cluster.Kit;

    private static string ManyJobs(string pool, int jobs) =>
        "stages:\n  - name: all\n    jobs:\n" + string.Concat(Enumerable.Range(1, jobs).Select(i => $"      - {{ name: j{i:D3}, run: \"true\", pool: {pool} }}\n"));

    [Fact]
    public async Task ClaimRace_1000Jobs_3Nodes_20Agents_NoneHandedOutTwice_NoneLost()
    {
        const int runs = 20, jobsPerRun = 50, agentCount = 20;
        using var repo = Pipelines.Repo(ManyJobs("race", jobsPerRun));
        var token = (await Kit.Admin.CreateAgentTokenAsync("race", preApproved: true)).Token;
        var agents = Enumerable.Range(1, agentCount).Select(i => new SimulatedAgent(Kit.Url, $"racer-{i}", "race")).ToList();
        using var stop = new CancellationTokenSource();
        try
        {
            foreach (var agent in agents) await agent.RegisterAsync(token, stop.Token);
            var working = agents.Select(a => Task.Run(() => a.RunAsync(stop.Token))).ToList();

            await Kit.Admin.CreateProjectAsync("race", repo.Path, "main"); // starts the first run
            var ids = new List<long> { (await Kit.Admin.ListRunsAsync("race")).Single().Id };
            for (var i = 1; i < runs; i++) ids.Add((await Kit.Admin.StartRunAsync("race", "main", null)).Id);
            foreach (var id in ids)
            {
                var run = await WaitForRunAsync(id, TimeSpan.FromMinutes(3));
                Assert.True(run.Status == "succeeded", $"run {id} {run.Status}\n{Kit.Logs()}");
            }
            await stop.CancelAsync();
            await Task.WhenAll(working);

            var received = agents.SelectMany(a => a.Received.Select(r => r.JobId)).ToList();
            var twice = received.GroupBy(j => j).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(twice.Count == 0, $"jobs handed out more than once: {string.Join(", ", twice.Take(20))}");
            Assert.Equal(runs * jobsPerRun, received.Count);
            Assert.True(agents.Count(a => !a.Received.IsEmpty) > agentCount / 2, "the work was spread over the agents");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var agent in agents) agent.Dispose();
        }
    }

    [Fact]
    public async Task PostgresRestarted_EveryNodeRecoversByItself()
    {
        var outcomes = new ConcurrentQueue<(TimeSpan At, int Status)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var probing = Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(Kit.Url + "/"), Timeout = TimeSpan.FromSeconds(5) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", SlipwayTestServer.AdminToken);
            while (!stop.IsCancellationRequested)
            {
                int status;
                try { status = (int)(await http.GetAsync("api/v1/projects", stop.Token)).StatusCode; }
                catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
                catch (Exception) { status = 0; }
                outcomes.Enqueue((clock.Elapsed, status));
                try { await Task.Delay(100, stop.Token); } catch (OperationCanceledException) { return; }
            }
        });
        await Task.Delay(1000);
        var down = clock.Elapsed;
        await Kit.Postgres.StopAsync();
        await Task.Delay(3000);
        await Kit.Postgres.StartAgainAsync();
        var up = clock.Elapsed;

        // Every node, asked directly, answers again by itself.
        foreach (var node in Kit.Nodes)
        {
            using var client = Kit.ClientOf(node);
            await Eventually.ValueAsync(async () => (await client.Http.GetAsync("api/v1/projects")).StatusCode == HttpStatusCode.OK ? "ok" : null,
                TimeSpan.FromSeconds(30), $"node {node.Name} answering after the database came back\n{node.Tail()}");
        }
        await Task.Delay(1000);
        await stop.CancelAsync();
        await probing;

        var failures = outcomes.Where(o => o.Status != 200).ToList();
        Assert.NotEmpty(outcomes.Where(o => o.At < down && o.Status == 200));
        // Refusals only while the database was away (plus the pools' first reconnect), none after.
        var grace = TimeSpan.FromSeconds(5);
        var late = failures.Where(f => f.At < down || f.At > up + grace).ToList();
        Assert.True(late.Count == 0, $"answers other than 200 outside the restart: {string.Join(", ", late.Select(l => $"{l.Status}@{l.At.TotalSeconds:F1}s"))} (down {down.TotalSeconds:F1}s, up {up.TotalSeconds:F1}s)");

        // And the cluster still works end to end: a run through the balancer, its jobs taken by an agent.
        using var repo = Pipelines.Repo(ManyJobs("after-restart", 3));
        var token = (await Kit.Admin.CreateAgentTokenAsync("after-restart", preApproved: true)).Token;
        using var agent = new SimulatedAgent(Kit.Url, "after-restart-1", "after-restart");
        using var agentStop = new CancellationTokenSource();
        await agent.RegisterAsync(token, agentStop.Token);
        var working = Task.Run(() => agent.RunAsync(agentStop.Token));
        await Kit.Admin.CreateProjectAsync("after-restart", repo.Path, "main");
        var run = await WaitForRunAsync((await Kit.Admin.ListRunsAsync("after-restart")).Single().Id, TimeSpan.FromMinutes(1));
        await agentStop.CancelAsync();
        await working;
        Assert.Equal("succeeded", run.Status);
    }

    [Fact]
    public async Task TheNodeConductingARollingDeployment_KilledMidBatch_AnotherTakesOver_AndItCompletesOnce()
    {
        await using var fleet = await SimulatedFleet.StartAsync(3);
        using var repo = Pipelines.Repo(FleetKit.HoldablePipeline(fleet, "1")); // one target per batch: three batches
        using var work = new TempDirectory();
        var h = fleet.Hosts;
        var agent = await Kit.StartAgentAsync("build", "cluster-deployer", work.Path, slots: 2);
        ClusterNode? killed = null;
        try
        {
            await FleetKit.ConfigureAsync(Kit.Admin, fleet, repo.Path, minHealthy: 1);
            var version = (await Eventually.ValueAsync(async () => (await Kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(),
                TimeSpan.FromMinutes(3), "the first release")).Version;
            await using var load = LoadClient.Start(fleet.FrontendUrl, concurrency: 2, requestTimeout: TimeSpan.FromSeconds(5));
            FleetKit.Hold(h[0]);
            var requested = await Kit.Admin.DeployAsync("shop", version, "production");
            await FleetKit.WaitHeldAsync(h[0]);
            var runId = (await Kit.Admin.GetDeploymentAsync("shop", requested.Number)).RunId!.Value;

            // The node conducting deployments, and a client following the deploy log through another node.
            var holder = (await Kit.Admin.ListNodesAsync()).Single(n => n.Duties.Any(d => d.Duty == Duties.DeploymentConducting));
            var oldToken = holder.Duties.Single(d => d.Duty == Duties.DeploymentConducting).FencingToken;
            var watcherNode = Kit.Nodes.First(n => n.Name != holder.Name);
            using var watcher = Kit.ClientOf(watcherNode);
            var followed = new StringBuilder();
            var following = Task.Run(async () =>
            {
                await foreach (var page in watcher.FollowLogAsync(runId, "deploy", 0))
                    lock (followed) followed.Append(page.Text);
            });
            await Eventually.ValueAsync(() => Task.FromResult(Length(followed) > 0 ? "some" : null), TimeSpan.FromSeconds(30), "the first lines through the watcher");

            killed = Kit.Node(holder.Name);
            killed.Kill(); // SIGKILL, holding the duty's lease, mid batch 1
            var beforeKill = Length(followed);
            var taker = await Eventually.ValueAsync(async () => (await watcher.ListNodesAsync())
                    .FirstOrDefault(n => n.Name != holder.Name && n.Duties.Any(d => d.Duty == Duties.DeploymentConducting && d.FencingToken > oldToken)),
                TimeSpan.FromSeconds(30), "another node taking the conductor's duty");
            Assert.NotEqual(holder.Name, taker.Name);

            FleetKit.Unhold(h[0]);
            var done = await Eventually.ValueAsync(async () =>
                await Kit.Admin.GetDeploymentAsync("shop", requested.Number) is { State: not ("requested" or "approved" or "running") } d ? d : null,
                TimeSpan.FromMinutes(3), "the deployment to end");
            var log = await Kit.Admin.WholeLogAsync(runId, "deploy");
            Assert.True(done.State == "succeeded", $"{done.State}: {done.Outcome}\n{log}\n{Kit.Logs()}");
            // Never run twice: one attempt of the deploy job, each target activated exactly once.
            var deployJob = (await Kit.Admin.GetRunAsync(runId)).Stages.SelectMany(s => s.Jobs).Single(j => j.Name == "deploy");
            Assert.Equal(1, deployJob.Attempt);
            foreach (var host in h)
                Assert.Equal(1, Regex.Matches(log, $@"activated {Regex.Escape(version)} on {host.Name} ").Count);
            Assert.All(h, x => Assert.Equal(version, x.ReadCurrentVersion()));

            // The follower on the surviving node kept receiving lines to the end: the same log as stored.
            await following.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(Length(followed) > beforeKill);
            Assert.Equal(log, followed.ToString());
            var summary = await load.StopAsync();
            Assert.True(summary.Requests > 0 && summary.Failures == 0, summary.ToString());
        }
        finally
        {
            FleetKit.Unhold(h[0]);
            CrashTests.Kill(agent);
            CrashTests.KillJobsUnder(work.Path);
            if (killed is { Running: false })
            {
                killed.Start();
                await killed.WaitHealthyAsync();
            }
        }
    }

    [Fact]
    public async Task ARollingUpgrade_DrainsAndRestartsEachNode_WhileRunsGoOn_AndTheAuditChainStaysOne()
    {
        using var repo = Pipelines.Repo(ManyJobs("upgrade", 4));
        var token = (await Kit.Admin.CreateAgentTokenAsync("upgrade", preApproved: true)).Token;
        var agents = Enumerable.Range(1, 3).Select(i => new SimulatedAgent(Kit.Url, $"upgrader-{i}", "upgrade")).ToList();
        using var stop = new CancellationTokenSource();
        foreach (var a in agents) await a.RegisterAsync(token, stop.Token);
        var working = agents.Select(a => Task.Run(() => a.RunAsync(stop.Token))).ToList();
        try
        {
            await Kit.Admin.CreateProjectAsync("upgrade", repo.Path, "main");
            var runs = new List<long> { (await Kit.Admin.ListRunsAsync("upgrade")).Single().Id };
            foreach (var node in Kit.Nodes)
            {
                // Drain (no new work, no duties, /healthz 503 so the balancer stops sending it requests) until the list says
                // drained (it knows, holds no duty, had no open request at its last heartbeat), then restart it.
                await Kit.Admin.DrainNodeAsync(node.Name);
                await Eventually.ValueAsync(async () => (await Kit.Admin.ListNodesAsync()).Single(n => n.Name == node.Name) is
                    { State: "drained", Draining: true, Duties.Count: 0, OpenRequests: 0 } n ? n : null, TimeSpan.FromSeconds(30), $"{node.Name} drained");
                runs.Add((await Kit.Admin.StartRunAsync("upgrade", "main", null)).Id); // work goes on meanwhile
                node.Stop();
                runs.Add((await Kit.Admin.StartRunAsync("upgrade", "main", null)).Id);
                node.Start();
                await node.WaitHealthyAsync();
                var back = await Eventually.ValueAsync(async () => (await Kit.Admin.ListNodesAsync()).Single(n => n.Name == node.Name) is { Draining: false, Alive: true } n ? n : null,
                    TimeSpan.FromSeconds(30), $"{node.Name} back");
                Assert.Null(back.StoppedAt);
            }
            foreach (var id in runs)
            {
                var run = await WaitForRunAsync(id, TimeSpan.FromMinutes(2));
                Assert.True(run.Status == "succeeded", $"run {id} {run.Status}\n{Kit.Logs()}");
            }
            var received = agents.SelectMany(a => a.Received.Select(r => r.JobId)).ToList();
            Assert.Equal(received.Count, received.Distinct().Count());
            Assert.Equal(runs.Count * 4, received.Count);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(working);
            foreach (var a in agents) a.Dispose();
        }

        // Entries were written through every node (each served requests and ran duties): still one valid chain.
        var config = Path.Combine(Kit.Root, "cli-config");
        var verify = await SlipwayProcess.RunAsync(["audit", "verify"], new Dictionary<string, string>
        {
            ["SLIPWAY_SERVER"] = Kit.Url, ["SLIPWAY_TOKEN"] = SlipwayTestServer.AdminToken, ["XDG_CONFIG_HOME"] = config,
        });
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
        Assert.Contains("audit chain intact", verify.Out);
    }

    private static int Length(StringBuilder text)
    {
        lock (text) return text.Length;
    }

    private async Task<Slipway.Contracts.Api.RunDto> WaitForRunAsync(long id, TimeSpan timeout) =>
        await Eventually.ValueAsync(async () =>
        {
            var run = await Kit.Admin.GetRunAsync(id);
            return run.Status is "succeeded" or "failed" or "cancelled" ? run : null;
        }, timeout, $"run {id} to end\n{Kit.Logs()}");
}
