using Dapper;
using Slipway.Core.Nodes;

namespace Slipway.Server.Nodes;

/// <summary>What a heartbeat found: the drain flag, the start the row holds, and whether that start is another process's.</summary>
public sealed record NodeBeat(bool Draining, long StartedAt, bool Taken);

public sealed class ServerNodeRow
{
    public string Name { get; set; } = "";
    public string Version { get; set; } = "";
    public long StartedAt { get; set; }
    public long HeartbeatAt { get; set; }
    public long Draining { get; set; }
    public long? StoppedAt { get; set; }
    /// <summary>The requests it was handling at its last heartbeat (<see cref="Hosting.OpenRequests"/>); null from a node of an earlier version.</summary>
    public long? OpenRequests { get; set; }
    /// <summary>The jobs its embedded agent was running at its last heartbeat; null from a node of an earlier version.</summary>
    public long? EmbeddedJobs { get; set; }
    /// <summary>1 when those counts were taken after the node had drained for a heartbeat interval (<see cref="NodeLoad"/>).</summary>
    public long CountedDraining { get; set; }
}

/// <summary>What <see cref="NodeStore.HeartbeatAsync"/> writes besides the time: what the node has in hand.</summary>
/// <param name="EmbeddedAgent">The name of its embedded agent, whose running jobs are counted; null without one.</param>
/// <param name="CountedDraining">The counts were taken after the node had drained for a heartbeat interval.</param>
public sealed record NodeLoad(int OpenRequests, string? EmbeddedAgent, bool CountedDraining);

/// <summary>What <see cref="NodeStore.RemoveAsync"/> found: the node's row (as it is now when it was not removed), and whether it was removed.</summary>
public sealed record NodeRemoval(ServerNodeRow Node, bool Removed, long Now);

/// <summary>
/// server_nodes and duty_leases. Every time written or compared here is the database's (<see cref="DbClock"/>), never a
/// node's, and every lease change is one conditional statement that re-checks what <see cref="DutyLeaseRules"/> decided
/// on, so two nodes deciding at once cannot both take a duty.
/// </summary>
public sealed class NodeStore(SqlDatabase db)
{
    private string Now => DbClock.NowMs(db.Dialect);

    // Named, never *: a statement prepared on a connection must keep its result's shape when another node's migration adds
    // a column during a rolling upgrade (SqlDatabase.PoolSettings).
    private const string NodeColumns =
        "name, version, started_at, heartbeat_at, draining, stopped_at, open_requests, embedded_jobs, counted_draining";

    /// <summary>A node (re)starting: its row with a fresh start and heartbeat, not draining, not stopped; and any lease
    /// still under its name (from before a crash) released, so this process takes duties anew, each with a new token.
    /// Returns the start time written, which tells this process's start from any later one under the same name.</summary>
    public Task<long> StartAsync(string name, string version) => db.WriteAsync(async (c, tx) =>
    {
        var startedAt = await c.ExecuteScalarAsync<long>(
            "INSERT INTO server_nodes (name, version, started_at, heartbeat_at, draining, stopped_at, open_requests, embedded_jobs, counted_draining) " +
            $"VALUES (@name, @version, {Now}, {Now}, 0, NULL, 0, 0, 0) ON CONFLICT (name) DO UPDATE SET version = excluded.version, " +
            "started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, draining = 0, counted_draining = 0, " +
            "open_requests = 0, embedded_jobs = 0, stopped_at = NULL RETURNING started_at",
            new { name, version }, tx);
        await c.ExecuteAsync($"UPDATE duty_leases SET holder = NULL, expires_at = {Now} WHERE holder = @name", new { name }, tx);
        return startedAt;
    });

    /// <summary>
    /// The heartbeat of the process that started as <paramref name="name"/> at <paramref name="startedAt"/>: written only while
    /// the row still holds that start, with what the node has in hand (<see cref="NodeLoad"/>; its embedded agent's running
    /// jobs counted in the same statement). Answers whether the node is to drain; <see cref="NodeBeat.Taken"/> when another
    /// process has started under the name since (the row holds its start); re-creates the row if someone deleted it (a node
    /// removed while it was thought lost comes back, still <paramref name="draining"/> if it was).
    /// </summary>
    public Task<NodeBeat> HeartbeatAsync(string name, string version, long startedAt, bool draining, NodeLoad load) => db.WriteAsync(async (c, tx) =>
    {
        var work = new
        {
            name, version, startedAt, open = load.OpenRequests, agent = load.EmbeddedAgent,
            counted = load.CountedDraining ? 1 : 0, draining = draining ? 1 : 0,
        };
        if (await c.ExecuteScalarAsync<long?>(
                $"UPDATE server_nodes SET heartbeat_at = {Now}, open_requests = @open, embedded_jobs = {EmbeddedJobs}, " +
                // Counted draining only while the row drains: an undrain between two heartbeats cannot leave a stale 1.
                "counted_draining = CASE WHEN draining <> 0 THEN @counted ELSE 0 END, stopped_at = NULL " +
                "WHERE name = @name AND started_at = @startedAt RETURNING draining",
                work, tx) is { } toDrain)
            return new NodeBeat(toDrain != 0, startedAt, Taken: false);
        if (await c.ExecuteScalarAsync<long?>("SELECT started_at FROM server_nodes WHERE name = @name", new { name }, tx) is { } other)
            return new NodeBeat(false, other, Taken: true);
        var started = await c.ExecuteScalarAsync<long>(
            "INSERT INTO server_nodes (name, version, started_at, heartbeat_at, draining, stopped_at, open_requests, embedded_jobs, counted_draining) " +
            $"VALUES (@name, @version, {Now}, {Now}, @draining, NULL, @open, {EmbeddedJobs}, 0) RETURNING started_at", work, tx);
        return new NodeBeat(draining, started, Taken: false);
    });

    /// <summary>The jobs the embedded agent named @agent is running (0 when @agent is null).</summary>
    private const string EmbeddedJobs =
        "(SELECT COUNT(*) FROM jobs j JOIN agents a ON a.id = j.agent_id WHERE a.name = @agent AND j.status = 'running')";

    /// <summary>A graceful stop, recorded only while the row still holds this process's start (never on a successor's row).</summary>
    public Task StopAsync(string name, long startedAt) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync($"UPDATE server_nodes SET stopped_at = {Now}, heartbeat_at = {Now}, open_requests = 0, embedded_jobs = 0 WHERE name = @name AND started_at = @startedAt",
            new { name, startedAt }, tx));

    /// <summary>Sets the drain flag if it is not already so; false when it was (the caller says which), null for an unknown node.</summary>
    public Task<bool?> SetDrainingAsync(string name, bool draining) => db.WriteAsync<bool?>(async (c, tx) =>
    {
        var flag = draining ? 1 : 0;
        // The node's counts so far were taken before it knew: "drained" waits for a heartbeat counted while draining.
        if (await c.ExecuteAsync("UPDATE server_nodes SET draining = @flag, counted_draining = 0 WHERE name = @name AND draining <> @flag",
                new { name, flag }, tx) == 1) return true;
        return await c.ExecuteScalarAsync<long?>("SELECT 1 FROM server_nodes WHERE name = @name", new { name }, tx) is null ? null : false;
    });

    /// <summary>
    /// Removes the row of a node that is stopped or lost (<see cref="NodeNames.IsAlive"/> on the database's clock, in the same
    /// transaction). Its leases are left alone: a lost node's leases expire and pass on by the usual rule, and lease rows are
    /// never deleted, so fencing tokens only ever go up. An alive node is not removed (its next heartbeat would bring it
    /// back). Null for an unknown node.
    /// </summary>
    public Task<NodeRemoval?> RemoveAsync(string name, TimeSpan heartbeatInterval) => db.WriteAsync<NodeRemoval?>(async (c, tx) =>
    {
        var now = await c.ExecuteScalarAsync<long>($"SELECT {Now}", transaction: tx);
        var row = await c.QuerySingleOrDefaultAsync<ServerNodeRow?>($"SELECT {NodeColumns} FROM server_nodes WHERE name = @name", new { name }, tx);
        if (row is null) return null;
        if (NodeNames.IsAlive(row.HeartbeatAt, row.StoppedAt, now, heartbeatInterval)) return new NodeRemoval(row, Removed: false, now);
        // Only the row as read: a heartbeat since (the node came back) keeps it, and the answer shows it as it is now.
        if (await c.ExecuteAsync("DELETE FROM server_nodes WHERE name = @name AND heartbeat_at = @heartbeatAt",
                new { name, heartbeatAt = row.HeartbeatAt }, tx) == 1)
            return new NodeRemoval(row, Removed: true, now);
        var back = await c.QuerySingleOrDefaultAsync<ServerNodeRow?>($"SELECT {NodeColumns} FROM server_nodes WHERE name = @name", new { name }, tx);
        return back is null ? null : new NodeRemoval(back, Removed: false, now);
    });

    public Task<ServerNodeRow?> FindAsync(string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ServerNodeRow?>($"SELECT {NodeColumns} FROM server_nodes WHERE name = @name", new { name }));

    /// <summary>Every node (by name), every lease and the database's now, read on one connection.</summary>
    public Task<(IReadOnlyList<ServerNodeRow> Nodes, IReadOnlyList<DutyLease> Leases, long Now)> ListAsync() => db.ReadAsync(async c =>
    {
        var now = await c.ExecuteScalarAsync<long>($"SELECT {Now}");
        var nodes = (await c.QueryAsync<ServerNodeRow>($"SELECT {NodeColumns} FROM server_nodes ORDER BY name")).ToList();
        return ((IReadOnlyList<ServerNodeRow>)nodes, await LeasesAsync(c), now);
    });

    /// <summary>Every lease and the database's now (read first: a lease read after it is never older than it).</summary>
    public Task<(IReadOnlyList<DutyLease> Leases, long Now)> LeasesAsync() => db.ReadAsync(async c =>
    {
        var now = await c.ExecuteScalarAsync<long>($"SELECT {Now}");
        return (await LeasesAsync(c), now);
    });

    private static async Task<IReadOnlyList<DutyLease>> LeasesAsync(System.Data.Common.DbConnection c) =>
        (await c.QueryAsync<(string Duty, string? Holder, long FencingToken, long ExpiresAt)>(
            "SELECT duty, holder, fencing_token, expires_at FROM duty_leases ORDER BY duty"))
        .Select(r => new DutyLease(r.Duty, r.Holder, r.FencingToken, r.ExpiresAt)).ToList();

    /// <summary>Takes the duty when it was never taken, is released or has expired, one token up; its new token, or null when another node holds it.</summary>
    public Task<long?> AcquireAsync(string duty, string node, TimeSpan lease) => db.WriteAsync<long?>((c, tx) =>
        c.ExecuteScalarAsync<long?>(
            $"INSERT INTO duty_leases (duty, holder, fencing_token, expires_at) VALUES (@duty, @node, 1, {Now} + @ms) " +
            "ON CONFLICT (duty) DO UPDATE SET holder = excluded.holder, fencing_token = duty_leases.fencing_token + 1, expires_at = excluded.expires_at " +
            $"WHERE duty_leases.holder IS NULL OR duty_leases.expires_at <= {Now} RETURNING fencing_token",
            new { duty, node, ms = (long)lease.TotalMilliseconds }, tx));

    /// <summary>Extends a lease still held under <paramref name="token"/> and unexpired; false when it was lost.</summary>
    public Task<bool> RenewAsync(string duty, string node, long token, TimeSpan lease) => db.WriteAsync(async (c, tx) =>
        await c.ExecuteAsync(
            $"UPDATE duty_leases SET expires_at = {Now} + @ms WHERE duty = @duty AND holder = @node AND fencing_token = @token AND expires_at > {Now}",
            new { duty, node, token, ms = (long)lease.TotalMilliseconds }, tx) == 1);

    /// <summary>Gives a lease up (drain, shutdown) so another node takes it at its next look instead of waiting out the lease.</summary>
    public Task<bool> ReleaseAsync(string duty, string node, long token) => db.WriteAsync(async (c, tx) =>
        await c.ExecuteAsync($"UPDATE duty_leases SET holder = NULL, expires_at = {Now} WHERE duty = @duty AND holder = @node AND fencing_token = @token",
            new { duty, node, token }, tx) == 1);
}
