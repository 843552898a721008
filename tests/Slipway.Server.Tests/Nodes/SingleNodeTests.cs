using System.Net;
using System.Text.Json;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Nodes;
using Slipway.Testing;

namespace Slipway.Server.Tests.Nodes;

/// <summary>The same node code on SQLite, the single-node default: one node holding every duty, drain, the CLI.</summary>
public sealed class SingleNodeTests
{
    [Fact]
    public async Task SingleNode_OnSqlite_HoldsEveryDuty_AndListsItself()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);

        var holders = await NodeKit.AllHeldByAsync(server, server.Options.NodeName);
        var node = (await server.Client.ListNodesAsync()).Single();

        Assert.Equal(server.Options.NodeName, node.Name);
        Assert.True(node.ThisNode && node.Alive && !node.Draining);
        Assert.Equal(NodeIdentity.Version, node.Version);
        Assert.All(node.Duties, d => Assert.Equal(1, d.FencingToken)); // taken once, never taken over
        Assert.Equal(Duties.All.Count, holders.Count);
        Assert.Equal(HttpStatusCode.OK, (await NodeKit.HealthAsync(server)).Status);
    }

    [Fact]
    public async Task StaleFence_OnSqlite_WriteIsRefused_AndLeavesNothingBehind()
    {
        await using var server = await NodeKit.StartAsync("fence-node");
        var token = (await NodeKit.AllHeldByAsync(server, "fence-node"))[Duties.LeaseSweeping].Token;

        await Assert.ThrowsAsync<DutyLostException>(() =>
            NodeKit.WriteGhostNodeAsync(server, "ghost-1", new DutyFence(Duties.LeaseSweeping, "fence-node", token + 1)));
        await Assert.ThrowsAsync<DutyLostException>(() =>
            NodeKit.WriteGhostNodeAsync(server, "ghost-2", new DutyFence(Duties.LeaseSweeping, "other-node", token)));
        await NodeKit.WriteGhostNodeAsync(server, "ghost-3", new DutyFence(Duties.LeaseSweeping, "fence-node", token));
        await NodeKit.WriteGhostNodeAsync(server, "ghost-4", null); // outside a duty nothing is checked

        Assert.False(await NodeKit.NodeRowExistsAsync(server, "ghost-1"));
        Assert.False(await NodeKit.NodeRowExistsAsync(server, "ghost-2"));
        Assert.True(await NodeKit.NodeRowExistsAsync(server, "ghost-3"));
        Assert.True(await NodeKit.NodeRowExistsAsync(server, "ghost-4"));
    }

    [Fact]
    public async Task DrainedNode_HandsOutNoJobs_UntilUndrained()
    {
        await using var server = await NodeKit.StartAsync("jobs-node", agent: true);
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo hi"));
        await server.Client.DrainNodeAsync("jobs-node");
        await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).Single().Duties.Count == 0 ? "" : null,
            TimeSpan.FromSeconds(5), "the drained node to give up its duties");

        var runId = await server.CreateProjectAsync("shop", repo.Path);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the embedded agent polls this node all along
        var whileDrained = await server.Client.GetRunAsync(runId);
        await server.Client.UndrainNodeAsync("jobs-node");
        var run = await server.WaitForRunAsync(runId);

        Assert.Equal("queued", whileDrained.Status);
        Assert.Equal("succeeded", run.Status);
        await NodeKit.AllHeldByAsync(server, "jobs-node"); // and it takes its duties again
    }

    [Fact]
    public async Task NodeListDrainUndrain_ThroughTheCli()
    {
        await using var server = await NodeKit.StartAsync("cli-node");
        await NodeKit.AllHeldByAsync(server, "cli-node");

        var list = await SlipwayAsync(server, "node", "list");
        var drain = await SlipwayAsync(server, "node", "drain", "cli-node");
        var health = await NodeKit.HealthAsync(server);
        var again = await SlipwayAsync(server, "node", "drain", "cli-node");
        var unknown = await SlipwayAsync(server, "node", "undrain", "nobody");
        var listed = await Eventually.ValueAsync(async () =>
            JsonSerializer.Deserialize<List<NodeDto>>((await SlipwayAsync(server, "node", "list", "--json")).Out, SlipwayClient.Json)!.Single() is { Duties.Count: 0 } n ? n : null,
            TimeSpan.FromSeconds(5), "the drained node to list no duties");
        var undrain = await SlipwayAsync(server, "node", "undrain", "cli-node");

        Assert.True(list.Exit == 0, list.Err);
        var lines = list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("NAME", lines[0]);
        Assert.Matches(@"^cli-node \*\s+alive\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\s+\d+\s+.*deployment-conducting \(1\)", lines[1]);
        Assert.True(drain.Exit == 0, drain.Err);
        Assert.Contains("node cli-node drains", drain.Out);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Status);
        Assert.NotEqual(0, again.Exit);
        Assert.Contains("node cli-node is already draining", again.Err);
        Assert.NotEqual(0, unknown.Exit);
        Assert.Contains("no server node named 'nobody'", unknown.Err);
        Assert.True(listed.Draining);
        Assert.True(undrain.Exit == 0, undrain.Err);
        Assert.Contains("node cli-node no longer drains", undrain.Out);
        Assert.Equal(HttpStatusCode.OK, (await NodeKit.HealthAsync(server)).Status);
    }

    [Fact]
    public async Task DrainWait_WaitsForAnOpenRequest_NotForLongPolls_ThenSaysDrained()
    {
        // The embedded agent long-polls this node all along: those requests wait by design and are not counted.
        await using var server = await NodeKit.StartAsync("open-node", agent: true);
        await NodeKit.AllHeldByAsync(server, "open-node");
        var release = new TaskCompletionSource();
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", SlipwayTestServer.AdminToken);
        var held = http.PostAsync("/api/v1/lint", new HeldBody(release.Task)); // in the endpoint, reading a body that does not end

        var counted = await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).Single() is { OpenRequests: 1 } n ? n : null,
            TimeSpan.FromSeconds(10), "the held request to be counted at a heartbeat");
        var drain = SlipwayAsync(server, "node", "drain", "open-node", "--wait", "--timeout", "60s");
        var whileHeld = await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).Single() is { Duties.Count: 0 } n ? n : null,
            TimeSpan.FromSeconds(10), "the draining node to give up its duties");
        await Task.Delay(TimeSpan.FromSeconds(2)); // four heartbeats: the held request keeps it from drained
        var stillHeld = (await server.Client.ListNodesAsync()).Single();
        var waitedMeanwhile = !drain.IsCompleted;
        release.SetResult();
        using var answer = await held;
        var done = await drain;
        var drained = await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).Single() is { State: "drained" } n ? n : null,
            TimeSpan.FromSeconds(5), "the node to list as drained");
        var again = await SlipwayAsync(server, "node", "drain", "open-node", "--wait"); // already draining: waited for, not an error

        Assert.Equal("alive", counted.State);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.True(whileHeld.Draining);
        Assert.Equal("draining", stillHeld.State);
        Assert.True(stillHeld.OpenRequests >= 1, $"open requests {stillHeld.OpenRequests}");
        Assert.True(waitedMeanwhile, "drain --wait returned while a request was open: " + done.Out + done.Err);
        Assert.True(done.Exit == 0, done.Out + done.Err);
        Assert.Contains("waiting for 1 open request", done.Out);
        Assert.Contains("node open-node is drained: it holds no duty, and has no open request and no job on its embedded agent; it can be stopped", done.Out);
        Assert.Equal(0, drained.OpenRequests);
        Assert.True(again.Exit == 0, again.Out + again.Err);
        Assert.Contains("node open-node is already draining", again.Out);
        Assert.Contains("node open-node is drained", again.Out);
    }

    [Fact]
    public async Task DrainWait_GivesUpAfterItsTimeout_SayingWhatIsLeft()
    {
        await using var server = await NodeKit.StartAsync("slow-node");
        await NodeKit.AllHeldByAsync(server, "slow-node");
        var release = new TaskCompletionSource();
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", SlipwayTestServer.AdminToken);
        var held = http.PostAsync("/api/v1/lint", new HeldBody(release.Task));
        await server.Client.DrainNodeAsync("slow-node");
        var waiting = await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).Single() is { WaitingFor: "1 open request" } n ? n : null,
            TimeSpan.FromSeconds(15), "the draining node to wait for the held request only");

        var timedOut = await SlipwayAsync(server, "node", "drain", "slow-node", "--wait", "--timeout", "3s"); // already draining: waited for
        var badTimeout = await SlipwayAsync(server, "node", "drain", "slow-node", "--wait", "--timeout", "soon");
        release.SetResult();
        using var answer = await held;

        Assert.Equal(("draining", 1, 0), (waiting.State, waiting.OpenRequests, waiting.EmbeddedJobs));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode); // held open all along, not timed out by Kestrel
        Assert.Equal(1, timedOut.Exit);
        Assert.Contains("node slow-node is already draining", timedOut.Out);
        Assert.Matches(@"error: node slow-node is not drained after 3s: still waiting for [12] open requests?", timedOut.Err);
        Assert.Equal(2, badTimeout.Exit);
        Assert.Contains("--timeout: invalid duration", badTimeout.Err);
    }

    [Fact]
    public async Task Drained_WaitsForTheJobsOfItsEmbeddedAgent_WhichFinish()
    {
        await using var server = await NodeKit.StartAsync("job-node", agent: true);
        using var repo = Pipelines.Repo(Pipelines.OneJob("sleep 4; echo slept"));
        var runId = await server.CreateProjectAsync("nap", repo.Path);
        await Eventually.ValueAsync(async () => (await server.Client.GetRunAsync(runId)).Status == "running" ? "" : null,
            TimeSpan.FromSeconds(20), "the run to start on the embedded agent");

        await server.Client.DrainNodeAsync("job-node");
        var busy = await Eventually.ValueAsync(async () =>
            (await server.Client.ListNodesAsync()).Single() is { WaitingFor: "1 job on its embedded agent" } n ? n : null,
            TimeSpan.FromSeconds(10), "the draining node to wait for its embedded agent's job");
        var drained = await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).Single() is { State: "drained" } n ? n : null,
            TimeSpan.FromSeconds(30), "the node to be drained once the job ended");
        var run = await server.Client.GetRunAsync(runId);

        Assert.Equal(("draining", 1), (busy.State, busy.EmbeddedJobs));
        Assert.Equal("succeeded", run.Status); // the running job finished on the draining node
        Assert.Equal((0, 0), (drained.OpenRequests, drained.EmbeddedJobs));
    }

    [Fact]
    public async Task ARemovedNodeThatIsStillRunning_ComesBackAtItsNextHeartbeat_StillDraining()
    {
        await using var server = await NodeKit.StartAsync("back-node");
        await server.Client.DrainNodeAsync("back-node");
        await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).Single() is { Duties.Count: 0 } n ? n : null,
            TimeSpan.FromSeconds(10), "the node to give up its duties");
        // As if it had been removed while it looked lost (a long pause): its row is gone.
        await server.Service<SqlDatabase>().WriteAsync((c, tx) => Dapper.SqlMapper.ExecuteAsync(c, "DELETE FROM server_nodes WHERE name = 'back-node'", transaction: tx));

        var back = await Eventually.ValueAsync(async () => (await server.Client.ListNodesAsync()).SingleOrDefault(), TimeSpan.FromSeconds(10), "the node's row to come back");
        await Task.Delay(TimeSpan.FromSeconds(2)); // several heartbeats and lease looks

        Assert.True(back.Draining);
        var now = (await server.Client.ListNodesAsync()).Single();
        Assert.True(now.Draining);
        Assert.Empty(now.Duties); // it took nothing back
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await NodeKit.HealthAsync(server)).Status);
    }

    [Fact]
    public async Task ADrainAskedOfTheNodeItself_IsNotCountedAsDrainingBeforeAHeartbeatIntervalHasPassed()
    {
        // A count taken sooner after the node learnt it drains may miss requests the load balancer still sends until it sees
        // /healthz answer 503. Heartbeats every 2 s; the drain is asked right after one, so the next comes within 2 s of the
        // node learning it and must not say "counted draining" (the one after may).
        var interval = TimeSpan.FromSeconds(2);
        await using var server = await NodeKit.StartAsync("quick-node", heartbeat: interval);
        await NodeKit.AllHeldByAsync(server, "quick-node");
        var store = server.Service<NodeStore>();
        var seen = (await store.FindAsync("quick-node"))!.HeartbeatAt;
        var fresh = await Eventually.ValueAsync(async () => await store.FindAsync("quick-node") is { } r && r.HeartbeatAt > seen ? r : null,
            TimeSpan.FromSeconds(10), "a heartbeat");
        await server.Client.DrainNodeAsync("quick-node"); // through the node itself: it knows at once
        var next = await Eventually.ValueAsync(async () => await store.FindAsync("quick-node") is { } r && r.HeartbeatAt > fresh.HeartbeatAt ? r : null,
            TimeSpan.FromSeconds(10), "the heartbeat after the drain");
        var counted = await Eventually.ValueAsync(async () => await store.FindAsync("quick-node") is { CountedDraining: 1 } r ? r : null,
            TimeSpan.FromSeconds(10), "a heartbeat counted once the node had drained for an interval");

        Assert.Equal(0, next.CountedDraining);
        Assert.True(counted.HeartbeatAt - fresh.HeartbeatAt >= 2 * interval.TotalMilliseconds - 500, $"counted {counted.HeartbeatAt - fresh.HeartbeatAt} ms after");
        Assert.Equal(1, counted.Draining);
    }

    [Fact]
    public async Task Remove_TakesALostNodeOffTheList_RefusesAnAliveOrUnknownOne_AndIsAudited()
    {
        await using var server = await NodeKit.StartAsync("keep-node");
        await NodeKit.WriteGhostNodeAsync(server, "gone-node", null); // its heartbeat at 0: lost long ago

        var listed = await SlipwayAsync(server, "node", "list");
        var removed = await SlipwayAsync(server, "node", "remove", "gone-node");
        var alive = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.RemoveNodeAsync("keep-node"));
        var unknown = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.RemoveNodeAsync("gone-node"));
        var nodes = await server.Client.ListNodesAsync();
        var audit = await server.Client.ListAuditAsync(new AuditFilterOptions(Action: Core.Access.Actions.NodeDrain));

        Assert.Matches(@"(?m)^gone-node\s+lost\s+test\s+1970-01-01 00:00:00\s+-\s+-\s+none", listed.Out);
        Assert.True(removed.Exit == 0, removed.Err);
        Assert.Contains("node gone-node removed from the list", removed.Out);
        Assert.Equal(HttpStatusCode.Conflict, alive.Status);
        Assert.Contains("node keep-node is alive (last heartbeat", alive.Message);
        Assert.Contains("stop it first", alive.Message);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(["keep-node"], nodes.Select(n => n.Name));
        Assert.Contains(audit, e => e.Target == "node:gone-node" && e.Outcome == "succeeded" && e.Detail!.StartsWith("node removed from the list (lost, version test)"));
        Assert.Contains(audit, e => e.Target == "node:keep-node" && e.Outcome == "failed" && e.Detail!.StartsWith("not removed: node keep-node is alive"));
        Assert.Contains(audit, e => e.Target == "node:gone-node" && e.Outcome == "failed" && e.Detail!.StartsWith("not removed: no such node"));
    }

    /// <summary>
    /// A request body that keeps coming until released, so the request stays open in the endpoint (/lint reads it to its end).
    /// A YAML comment every 100 ms: Kestrel ends a body slower than 240 bytes/s after 5 s (MinRequestBodyDataRate).
    /// </summary>
    private sealed class HeldBody(Task release) : HttpContent
    {
        private static readonly byte[] Line = "# held open until the test releases it; a comment line of 64 bytes\n"u8.ToArray();

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync("stages:\n"u8.ToArray());
            while (!release.IsCompleted)
            {
                await stream.WriteAsync(Line);
                await stream.FlushAsync();
                await Task.WhenAny(release, Task.Delay(100));
            }
            await stream.WriteAsync("  build: {}\n"u8.ToArray());
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1; // sent chunked, as it is written
            return false;
        }
    }

    [Fact]
    public async Task InvalidNodeName_StopsTheStart()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => SlipwayTestServer.StartAsync(o => o.NodeName = "bad name"));
        Assert.Contains("node name 'bad name' is not valid", e.Message);
    }

    private static Task<(int Exit, string Out, string Err)> SlipwayAsync(SlipwayTestServer server, params string[] args) =>
        EndToEnd.CliRunner.AdminAsync(server, null, args);
}
