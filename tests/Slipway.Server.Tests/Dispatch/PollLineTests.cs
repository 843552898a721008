using System.Diagnostics;
using Slipway.Testing;
using Slipway.Testing.Cluster;

namespace Slipway.Server.Tests.Dispatch;

/// <summary>
/// A signal wakes only the first few polls waiting for a pool (WorkSignal's line). A job only the last agent in line may
/// take (its label) must still reach it at once: every woken poll that cannot take the job hands the wake-up on while the
/// pool has a claimable job, rather than the job waiting for that agent's own re-check (every 2 s).
/// </summary>
public sealed class PollLineTests
{
    [Fact]
    public async Task AJobForTheOneLabelledAgent_LastInALineOfTwelve_ReachesItAtOnce()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var token = (await server.Client.CreateAgentTokenAsync("line", preApproved: true)).Token;
        using var repo = Pipelines.Repo("stages:\n  - name: s\n    jobs:\n      - { name: gpu, run: \"true\", pool: line, labels: [gpu] }\n");
        using var stop = new CancellationTokenSource();
        var agents = Enumerable.Range(1, 11).Select(i => new SimulatedAgent(server.Url, $"plain-{i}", "line") { PollWait = TimeSpan.FromSeconds(30) }).ToList();
        var leased = new System.Collections.Concurrent.ConcurrentQueue<long>();
        var labelled = new SimulatedAgent(server.Url, "gpu-1", "line") { Labels = ["gpu"], PollWait = TimeSpan.FromSeconds(30), Leased = l => leased.Enqueue(l.JobId) };
        var working = new List<Task>();
        try
        {
            foreach (var agent in agents) await agent.RegisterAsync(token, stop.Token);
            working.AddRange(agents.Select(a => Task.Run(() => a.RunAsync(stop.Token))));
            await Task.Delay(500); // the plain agents are in line first
            await labelled.RegisterAsync(token, stop.Token);
            working.Add(Task.Run(() => labelled.RunAsync(stop.Token)));
            await Task.Delay(500);

            var first = await server.CreateProjectAndWaitAsync("line", repo.Path);
            Assert.Equal("succeeded", first.Status);
            // Five runs one after the other, each timed from its start to the lease at the labelled agent. Waiting for its
            // re-check would take 0-2 s each; five under 700 ms by chance would be 0.35^5 (0.5 %).
            var waits = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                await Task.Delay(300); // every poll is back in line, the labelled agent last
                var before = leased.Count;
                var watch = Stopwatch.StartNew();
                var run = await server.Client.StartRunAsync("line", "main", null);
                while (leased.Count == before && watch.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(2);
                Assert.True(leased.Count > before, "the labelled agent never got the job");
                waits.Add(watch.Elapsed.TotalMilliseconds);
                Assert.Equal("succeeded", (await server.WaitForRunAsync(run.Id)).Status);
            }
            Assert.All(waits, w => Assert.True(w < 700, $"waits {string.Join(", ", waits.Select(x => x.ToString("F0")))} ms"));
            Assert.All(agents, a => Assert.Empty(a.Received)); // the plain agents were woken and took nothing
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(working);
            foreach (var agent in agents) agent.Dispose();
            labelled.Dispose();
        }
    }
}
