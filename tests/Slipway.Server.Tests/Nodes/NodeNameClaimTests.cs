using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Slipway.Testing;

namespace Slipway.Server.Tests.Nodes;

/// <summary>
/// One process per data folder and per node name: a second server on the same folder, or under the same name on one
/// PostgreSQL, is refused before it touches anything; a dead process's lingering session does not keep its successor
/// out; and a node that finds another process took its name while it was cut off stops.
/// </summary>
[Collection("postgres")]
public sealed class NodeNameClaimTests(PostgresFixture postgres)
{
    private static long NameKey(string name) => DatabaseLocks.KeyOf("node:" + name);

    [Fact]
    public async Task ASecondServerOnTheSameDataFolder_IsRefused_UntilTheFirstStops()
    {
        using var data = new TempDirectory();
        await using (var first = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false, data.Path))
        {
            var e = await Assert.ThrowsAsync<NodeNameInUseException>(() => SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false, data.Path));
            Assert.Contains($"another Slipway server runs on the data folder {first.Options.FullDataDirectory}", e.Message);
            Assert.Contains("--data", e.Message);
            Assert.NotEmpty(await first.Client.ListNodesAsync()); // the first one is untouched
        }
        await using var again = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false, data.Path);
        Assert.NotEmpty(await again.Client.ListNodesAsync());
    }

    [Fact]
    public async Task ASecondServerUnderTheSameName_OnOnePostgres_IsRefused_AndTheFirstRunsOn()
    {
        var database = await postgres.CreateDatabaseAsync();
        // Heartbeats every second: a loaded machine may hold one back for a while, never for the alive window (3 s).
        var beat = TimeSpan.FromSeconds(1);
        await using var first = await NodeKit.StartAsync("twin", database, agent: true, heartbeat: beat);
        await NodeKit.AllHeldByAsync(first, "twin");

        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<NodeNameInUseException>(() => NodeKit.StartAsync("twin", database, agent: true, heartbeat: beat));
        Assert.Contains("another Slipway server runs as node 'twin'", e.Message);
        Assert.Contains("--node-name", e.Message);
        // Refused once the first one's heartbeat moved on (within a second or so), not at the end of the alive window.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"refused after {watch.Elapsed.TotalSeconds:0.0} s");

        var node = Assert.Single(await first.Client.ListNodesAsync());
        Assert.True(node.Alive && node.Duties.Count > 0);
        Assert.Contains(await first.Client.ListAgentsAsync(), a => a.Name == "embedded-twin");
    }

    /// <summary>A connection of the test's own, outside any pool: closing it ends its session (and the locks it holds).</summary>
    private static NpgsqlConnection Unpooled(string database) =>
        new(new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ConnectionString);

    /// <summary>The backend holding the name's lock, or null.</summary>
    private static Task<int?> HolderAsync(NpgsqlConnection via, string name) =>
        via.ExecuteScalarAsync<int?>(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = @key",
            new { key = NameKey(name) });

    [Fact]
    public async Task ADeadProcessesLingeringSession_DoesNotKeepItsSuccessorOut_WhichTakesTheLockOnceItEnds()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using (var warmup = await NodeKit.StartAsync("other", database)) { } // migrates the database
        // What a lost machine leaves: its session holding the name's lock, and its row with a recent heartbeat (written after
        // the session began, as the dead node's heartbeats were).
        await using var lingering = Unpooled(database);
        await lingering.OpenAsync();
        await lingering.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = NameKey("phoenix") });
        await lingering.ExecuteAsync("INSERT INTO server_nodes (name, version, started_at, heartbeat_at, draining, stopped_at) " +
                                     "VALUES ('phoenix', 'old', 1, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint, 0, NULL)");
        var lingeringPid = await lingering.ExecuteScalarAsync<int>("SELECT pg_backend_pid()");

        var logs = new CapturedLogs();
        await using var successor = await NodeKit.StartAsync("phoenix", database, logs: logs);
        // Its heartbeat never moved and its session went idle: it started once both were older than three heartbeats of 500 ms.
        Assert.Contains(logs.Entries, l => l.Message.Contains("watching its heartbeat"));
        Assert.Contains(logs.Entries, l => l.Message.Contains("held by a database session whose process is gone") && l.Message.Contains("starting anyway"));
        await NodeKit.AllHeldByAsync(successor, "phoenix");

        // The session ends (the database noticed the dead connection): the successor takes the lock at a heartbeat.
        await using var probe = Unpooled(database);
        await probe.OpenAsync();
        Assert.Equal(lingeringPid, await HolderAsync(probe, "phoenix"));
        await lingering.CloseAsync();
        await Eventually.ValueAsync(async () => await HolderAsync(probe, "phoenix") is { } pid && pid != lingeringPid ? "taken" : null,
            TimeSpan.FromSeconds(10), "the successor to hold its name's lock");
    }

    [Fact]
    public async Task ANodeTakesItsNameAgainAfterLosingTheSession_AndStopsWhenAnotherProcessStartsUnderIt()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var node = await NodeKit.StartAsync("cut-off", database);
        var stopping = node.Service<IHostApplicationLifetime>().ApplicationStopping;
        await using var admin = Unpooled(database);
        await admin.OpenAsync();

        // Its session holding the name's lock is ended (a database restart, a network cut): it takes the lock again.
        var holder = (await HolderAsync(admin, "cut-off"))!.Value;
        Assert.True(await admin.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@holder, 5000)", new { holder }));
        await Eventually.ValueAsync(async () => await HolderAsync(admin, "cut-off") is { } pid && pid != holder ? "taken again" : null,
            TimeSpan.FromSeconds(10), "the node to take its name again");
        Assert.False(stopping.IsCancellationRequested);

        // Another process starts under the name (it was let in while this one was cut off): its start is in the row now.
        await admin.ExecuteAsync("UPDATE server_nodes SET started_at = started_at + 1 WHERE name = 'cut-off'");
        await Eventually.ValueAsync(() => Task.FromResult(stopping.IsCancellationRequested ? "stopping" : null), TimeSpan.FromSeconds(10),
            "the node to stop itself");
        await node.DisposeAsync();
        // Its stop is not written over the other process's row.
        Assert.Null(await admin.ExecuteScalarAsync<long?>("SELECT stopped_at FROM server_nodes WHERE name = 'cut-off'"));
    }
}
