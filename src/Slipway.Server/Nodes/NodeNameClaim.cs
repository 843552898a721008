using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Slipway.Core.Nodes;

namespace Slipway.Server.Nodes;

/// <summary>Another server already runs on this data folder or under this node name.</summary>
public sealed class NodeNameInUseException(string message) : Exception(message);

/// <summary>
/// Makes sure this process is the only one of its kind, before it touches anything (<see cref="SlipwayServer.PrepareAsync"/>
/// calls <see cref="TakeAsync"/> first, before the recovery that fails a restarted node's embedded-agent jobs):
/// <list type="bullet">
/// <item>the data folder: an exclusive lock on <c>DATA/server.lock</c> (flock, released by the kernel when the process
/// ends however it ends), so two servers never share one folder's database, mirrors and agent work;</item>
/// <item>on PostgreSQL, the node's name: a session advisory lock held on a connection of its own for the process's life
/// (the database releases it when that connection dies). When it is held, <see cref="NodeNameClaimRules"/> decides from the
/// name's heartbeat whether another process runs (refuse) or a dead one's session lingers (start anyway).</item>
/// </list>
/// The name lock is kept at every heartbeat (<see cref="KeepAsync"/>): after a lost connection (a database restart) it is
/// taken again; if another process took it meanwhile, two processes run under one name and this one, the older, stops.
/// </summary>
public sealed class NodeNameClaim(ServerOptions options, SqlDatabase db, NodeStore store, NodeIdentity node, IHostApplicationLifetime lifetime,
    ILogger<NodeNameClaim> log) : IAsyncDisposable
{
    public const string LockFile = "server.lock";
    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(250);

    private FileStream? _folderLock;
    private NpgsqlConnection? _nameLock;
    private bool _stopping;

    private long Key => DatabaseLocks.KeyOf("node:" + node.Name);

    public async Task TakeAsync(CancellationToken ct = default)
    {
        _folderLock = LockFolder();
        if (db.Dialect == SqlDialect.Postgres) await TakeNameAsync(ct);
    }

    private FileStream LockFolder()
    {
        Directory.CreateDirectory(options.FullDataDirectory);
        var path = Path.Combine(options.FullDataDirectory, LockFile);
        try
        {
            // FileShare.None is an exclusive flock on Linux: a second process (or a second server in this one) cannot have it.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new NodeNameInUseException($"another Slipway server runs on the data folder {options.FullDataDirectory} (it holds {path}); " +
                                             "stop that one first, or give this server a folder of its own with --data");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // a SQLite server never loads Npgsql's types (idle memory, issue 12)
    private async Task TakeNameAsync(CancellationToken ct)
    {
        long? first = null; // the holder's heartbeat when first seen
        var watching = System.Diagnostics.Stopwatch.StartNew();
        var said = false;
        while (true)
        {
            if (await TryLockNameAsync(ct)) return;
            var row = await store.FindAsync(node.Name);
            var now = await store.NowAsync();
            first ??= row?.HeartbeatAt;
            var step = NodeNameClaimRules.WhenHeld(first, row?.HeartbeatAt, row?.StoppedAt, now, options.NodeHeartbeatInterval, watching.Elapsed);
            switch (step)
            {
                case HeldNameStep.Refuse:
                    throw new NodeNameInUseException($"another Slipway server runs as node '{node.Name}'" +
                        (row is null ? "" : $" (version {row.Version}, last heartbeat {(now - row.HeartbeatAt) / 1000.0:0.0} s ago)") +
                        "; give this one another name with --node-name (or SLIPWAY_NODE_NAME), or stop that one first");
                case HeldNameStep.StartAnyway:
                    log.LogWarning("the name lock of node {Node} is held by a database session whose process no longer beats (a lost machine?); " +
                                   "starting anyway, and taking the lock when that session ends", node.Name);
                    return;
            }
            if (!said)
            {
                log.LogInformation("node {Node}: another database session holds this name; watching its heartbeat to tell a live server " +
                                   "from one that just died (at most {Seconds} s)", node.Name, 3 * options.NodeHeartbeatInterval.TotalSeconds);
                said = true;
            }
            await Task.Delay(LookEvery, ct);
        }
    }

    /// <summary>
    /// At every heartbeat: the name lock's connection still answers, or the lock is taken again on a new one. Held by
    /// another process that started under this name since: this node stops. Not reachable (the database is away), or held
    /// by this node's own lingering session: the next heartbeat tries again.
    /// </summary>
    public Task KeepAsync(CancellationToken ct) => db.Dialect == SqlDialect.Postgres && !_stopping ? KeepNameAsync(ct) : Task.CompletedTask;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task KeepNameAsync(CancellationToken ct)
    {
        try
        {
            if (_nameLock is { } held)
            {
                await using var ping = new NpgsqlCommand("SELECT 1", held);
                await ping.ExecuteScalarAsync(ct);
                return;
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
        {
            log.LogWarning("node {Node} lost the connection holding its name's lock ({Error}); taking it again", node.Name, e.Message);
            await DropNameLockAsync();
        }
        try
        {
            if (await TryLockNameAsync(ct)) return;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            log.LogDebug("node {Node} could not take its name's lock yet: {Error}", node.Name, e.Message);
            return;
        }
        // Not free: either this node's own old session lingers (a network cut the database has not noticed yet), or
        // another process started under this name while this one was cut off: it wrote its own start into the row.
        if (await store.FindAsync(node.Name) is not { } row || row.StartedAt == node.StartedAt) return;
        _stopping = true;
        log.LogCritical("another Slipway server process now holds the name of node {Node} (it started while this one had lost its database " +
                        "connection): two processes under one name would take each other's duties and jobs, so this one stops. " +
                        "Give one of them another name with --node-name", node.Name);
        lifetime.StopApplication();
    }

    private async Task<bool> TryLockNameAsync(CancellationToken ct)
    {
        // A connection of its own, outside the pool: the session lock lives as long as this connection. Keepalives find a
        // connection a network cut left half-open, so the database releases the lock of a lost machine in the end.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false, KeepAlive = 15 }.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@key)", new { key = Key }, cancellationToken: ct)))
            {
                _nameLock = connection;
                return true;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return false;
    }

    private async Task DropNameLockAsync()
    {
        if (_nameLock is { } c)
        {
            _nameLock = null;
            try { await c.DisposeAsync(); } catch (Exception) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DropNameLockAsync();
        _folderLock?.Dispose();
        _folderLock = null;
    }
}
