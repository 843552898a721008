using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Slipway.Testing;
using Slipway.Testing.Cluster;

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
        Assert.All(outcomes.Where(o => o.At > up + grace), o => Assert.Equal(200, o.Status));

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

    private async Task<Slipway.Contracts.Api.RunDto> WaitForRunAsync(long id, TimeSpan timeout) =>
        await Eventually.ValueAsync(async () =>
        {
            var run = await Kit.Admin.GetRunAsync(id);
            return run.Status is "succeeded" or "failed" or "cancelled" ? run : null;
        }, timeout, $"run {id} to end\n{Kit.Logs()}");
}
