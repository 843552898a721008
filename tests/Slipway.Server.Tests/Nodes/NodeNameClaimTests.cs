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
        await using var first = await NodeKit.StartAsync("twin", database, agent: true);
        await NodeKit.AllHeldByAsync(first, "twin");

        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<NodeNameInUseException>(() => NodeKit.StartAsync("twin", database, agent: true));
        Assert.Contains("another Slipway server runs as node 'twin'", e.Message);
        Assert.Contains("--node-name", e.Message);
        // Refused once the first one's heartbeat (every 500 ms here) moved on, well before the alive window (1.5 s) ran out.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"refused after {watch.Elapsed.TotalSeconds:0.0} s");

        var node = Assert.Single(await first.Client.ListNodesAsync());
        Assert.True(node.Alive && node.Duties.Count > 0);
        Assert.Contains(await first.Client.ListAgentsAsync(), a => a.Name == "embedded-twin");
    }

    [Fact]
    public async Task ADeadProcessesLingeringSession_DoesNotKeepItsSuccessorOut_WhichTakesTheLockOnceItEnds()
    {
        var database = await postgres.CreateDatabaseAsync();
        // What a lost machine leaves: its row with a recent heartbeat, and its session still holding the name's lock.
        await using var lingering = new NpgsqlConnection(database);
        await lingering.OpenAsync();
        await lingering.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = NameKey("phoenix") });
        await using (var warmup = await NodeKit.StartAsync("other", database)) { } // creates the tables
        await using (var c = new NpgsqlConnection(database))
            await c.ExecuteAsync("INSERT INTO server_nodes (name, version, started_at, heartbeat_at, draining, stopped_at) " +
                                 "VALUES ('phoenix', 'old', 1, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint, 0, NULL)");

        var watch = Stopwatch.StartNew();
        await using var successor = await NodeKit.StartAsync("phoenix", database);
        // Its heartbeat never moved: it started once that row went dead (three heartbeats of 500 ms), not before.
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), $"started after {watch.Elapsed.TotalSeconds:0.0} s");
        await NodeKit.AllHeldByAsync(successor, "phoenix");

        // The session ends (the database noticed the dead connection): the successor takes the lock at a heartbeat.
        await lingering.CloseAsync();
        await using var probe = new NpgsqlConnection(database);
        await probe.OpenAsync();
        await Eventually.ValueAsync(async () => await probe.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", new { key = NameKey("phoenix") }) ? null : "held",
            TimeSpan.FromSeconds(10), "the successor to hold its name's lock");
    }

    [Fact]
    public async Task ANodeWhoseNameAnotherProcessTookWhileItWasCutOff_Stops()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var node = await NodeKit.StartAsync("cut-off", database);
        var stopping = node.Service<IHostApplicationLifetime>().ApplicationStopping;

        // Cut off: the session holding its name's lock is ended; before it takes the lock again, another process starts under
        // the name (takes the lock, writes its own start into the row).
        await using var impostor = new NpgsqlConnection(database);
        await impostor.OpenAsync();
        var key = NameKey("cut-off");
        var holder = await impostor.ExecuteScalarAsync<int>(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = @key", new { key });
        // Ended and taken in one statement (the termination waits for the session to be gone), so the node's next heartbeat,
        // every 500 ms, finds the name held by another.
        Assert.True(await impostor.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@holder, 5000) AND pg_try_advisory_lock(@key)", new { holder, key }));
        await impostor.ExecuteAsync("UPDATE server_nodes SET started_at = started_at + 1 WHERE name = 'cut-off'");

        await Eventually.ValueAsync(() => Task.FromResult(stopping.IsCancellationRequested ? "stopping" : null), TimeSpan.FromSeconds(10),
            "the node to stop itself");
    }
}
