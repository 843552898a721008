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
        Assert.Matches(@"^cli-node \*\s+alive\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+.*deployment-conducting \(1\)", lines[1]);
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
    public async Task InvalidNodeName_StopsTheStart()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => SlipwayTestServer.StartAsync(o => o.NodeName = "bad name"));
        Assert.Contains("node name 'bad name' is not valid", e.Message);
    }

    private static Task<(int Exit, string Out, string Err)> SlipwayAsync(SlipwayTestServer server, params string[] args) =>
        EndToEnd.CliRunner.AdminAsync(server, null, args);
}
