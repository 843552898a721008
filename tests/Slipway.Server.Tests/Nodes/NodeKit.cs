using System.Net;
using Dapper;
using Slipway.Contracts.Api;
using Slipway.Core.Nodes;
using Slipway.Testing;

namespace Slipway.Server.Tests.Nodes;

/// <summary>Server nodes for the node tests: short leases and heartbeats so takeovers and drains show within seconds.</summary>
internal static class NodeKit
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    // The nodes of one database share a blob store and a hosted-repository directory, as a cluster's nodes must
    // (SharedStorageCheck refuses a node that does not): one pair of folders per database, removed when the tests end.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TempDirectory> Shared = new();

    static NodeKit() => AppDomain.CurrentDomain.ProcessExit += (_, _) => { foreach (var folder in Shared.Values) folder.Dispose(); };

    public static string SharedFolder(string database) => Shared.GetOrAdd(database, _ => new TempDirectory()).Path;

    /// <summary>Gives a node the blob store and hosted-repository directory of the other nodes of its database.</summary>
    public static void ShareStorage(Hosting.ServerOptions o, string database)
    {
        o.Blobs = Path.Combine(SharedFolder(database), "blobs");
        o.HostedDirectory = Path.Combine(SharedFolder(database), "hosted");
    }

    public static Task<SlipwayTestServer> StartAsync(string name, string? database = null, bool agent = false, TimeSpan? heartbeat = null,
        CapturedLogs? logs = null, TimeSpan? lease = null) =>
        SlipwayTestServer.StartAsync(o =>
        {
            o.Database = database;
            if (database is not null) ShareStorage(o, database);
            o.NodeName = name;
            o.DutyLeaseTime = lease ?? Lease;
            o.NodeHeartbeatInterval = heartbeat ?? TimeSpan.FromMilliseconds(500);
            o.EmbeddedAgent = agent;
        }, logs: logs);

    /// <summary>Each duty with the node holding it and its token, as the API shows them (a duty held by two would throw).</summary>
    public static async Task<Dictionary<string, (string Node, long Token)>> HoldersAsync(SlipwayTestServer via) =>
        (await via.Client.ListNodesAsync()).SelectMany(n => n.Duties.Select(d => (d.Duty, n.Name, d.FencingToken)))
        .ToDictionary(d => d.Duty, d => (d.Name, d.FencingToken));

    /// <summary>Waits until <paramref name="node"/> holds every duty; answers the holders then.</summary>
    public static Task<Dictionary<string, (string Node, long Token)>> AllHeldByAsync(SlipwayTestServer via, string node, TimeSpan? timeout = null) =>
        Eventually.ValueAsync(async () =>
        {
            var holders = await HoldersAsync(via);
            return Duties.All.All(d => holders.TryGetValue(d, out var h) && h.Node == node) ? holders : null;
        }, timeout ?? TimeSpan.FromSeconds(20), $"node {node} to hold every duty");

    public static async Task<(HttpStatusCode Status, string Body)> HealthAsync(SlipwayTestServer server)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var response = await http.GetAsync("/healthz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A row written under <paramref name="fence"/> (null: no duty) through the server's own write path.</summary>
    public static Task WriteGhostNodeAsync(SlipwayTestServer server, string ghost, DutyFence? fence)
    {
        var db = server.Service<SqlDatabase>();
        Task Write() => db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO server_nodes (name, version, started_at, heartbeat_at, draining) VALUES (@ghost, 'test', 0, 0, 0)", new { ghost }, tx));
        return fence is null ? Write() : DutyFence.RunUnderAsync(fence, Write);
    }

    public static async Task<bool> NodeRowExistsAsync(SlipwayTestServer server, string name) =>
        await server.Service<NodeStore>().FindAsync(name) is not null;

    public static NodeDto Node(this IEnumerable<NodeDto> nodes, string name) => nodes.Single(n => n.Name == name);
}
