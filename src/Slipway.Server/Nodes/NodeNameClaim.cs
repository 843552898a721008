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
/// Makes sure this process is the only one of its kind before it touches anything: <see cref="SlipwayServer.PrepareAsync"/>
/// calls <see cref="TakeAsync"/> first, before the database is migrated and before the recovery that fails a restarted
/// node's embedded-agent jobs.
/// <list type="bullet">
/// <item>The data folder: an exclusive lock on <c>DATA/server.lock</c> (flock, released by the kernel when the process
/// ends however it ends), so two servers never share one folder's database, mirrors and agent work.</item>
/// <item>On PostgreSQL, the node's name: a session advisory lock held on a connection of its own for the process's life
/// (the database releases it when that connection ends). When it is held, <see cref="NodeNameClaimRules"/> decides from
/// the name's row and the holding session whether another process runs (refuse) or a dead one's session lingers (start
/// anyway).</item>
/// </list>
/// At every heartbeat <see cref="KeepAsync"/> takes the lock again if its connection was lost (a database restart), and
/// the heartbeat itself is written only while the row holds this process's start: when another process has started
/// under the name since, <see cref="GiveWay"/> stops this one, the older.
/// </summary>
public sealed class NodeNameClaim(ServerOptions options, SqlDatabase db, NodeStore store, NodeIdentity node, IHostApplicationLifetime lifetime,
    ILogger<NodeNameClaim> log) : IAsyncDisposable
{
    public const string LockFile = "server.lock";
    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(250);
    private const int PingSeconds = 5; // well within the alive window (three heartbeats): a hung ping must not hold the heartbeat back

    private FileStream? _folderLock;
    private NpgsqlConnection? _nameLock;
    private bool _givenWay;
    private bool _saidUnheld;

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
            // Mode 0600: no other local user may open it, and so none can hold a lock on it to keep the server from starting.
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException e) when (File.Exists(path) && e is not (DirectoryNotFoundException or PathTooLongException))
        {
            throw new NodeNameInUseException($"another Slipway server runs on the data folder {options.FullDataDirectory} (it holds {path}: {e.Message}); " +
                                             "stop that one first, or give this server a folder of its own with --data");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // a SQLite server never loads Npgsql's types (idle memory, issue 12)
    private async Task TakeNameAsync(CancellationToken ct)
    {
        NameRow? first = null; // the name's row when the lock was first found held, or when it first appeared
        var watching = System.Diagnostics.Stopwatch.StartNew();
        var said = false;
        while (true)
        {
            if (await TryLockNameAsync(ct)) return;
            var (row, holderSince, holderActiveAt, now) = await LookAtHolderAsync(ct);
            first ??= row;
            switch (NodeNameClaimRules.WhenHeld(first, row, holderSince, holderActiveAt, now, options.NodeHeartbeatInterval, watching.Elapsed))
            {
                case HeldNameStep.Refuse:
                    throw new NodeNameInUseException($"another Slipway server runs as node '{node.Name}'" +
                        (row is null ? "" : $" (last heartbeat {(now - row.HeartbeatAt) / 1000.0:0.0} s ago)") +
                        "; give this one another name with --node-name (or SLIPWAY_NODE_NAME), or stop that one first");
                case HeldNameStep.StartAnyway:
                    log.LogWarning("the name lock of node {Node} is held by a database session whose process is gone (a lost machine, or a stop " +
                                   "that has not closed its connection); starting anyway, and taking the lock when that session ends", node.Name);
                    return;
            }
            if (!said)
            {
                log.LogInformation("node {Node}: another database session holds this name; watching its heartbeat to tell a live server " +
                                   "from one that is gone (at most {Seconds} s)", node.Name, 3 * options.NodeHeartbeatInterval.TotalSeconds);
                said = true;
            }
            await Task.Delay(LookEvery, ct);
        }
    }

    /// <summary>The name's row (null before the schema or the row exists), when the session holding the lock began and last ran a
    /// statement, and the database's now.</summary>
    private async Task<(NameRow? Row, long? HolderSince, long? HolderActiveAt, long Now)> LookAtHolderAsync(CancellationToken ct)
    {
        var (now, holderSince, holderActiveAt) = await db.ReadAsync(c => c.QuerySingleAsync<(long, long?, long?)>(
            $"SELECT {DbClock.NowMs(SqlDialect.Postgres)}, MIN((EXTRACT(EPOCH FROM a.backend_start) * 1000)::bigint), " +
            "MAX((EXTRACT(EPOCH FROM a.state_change) * 1000)::bigint) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " +
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = @key", new { key = Key }), ct);
        try
        {
            var row = await store.FindAsync(node.Name);
            return (row is null ? null : new NameRow(row.StartedAt, row.HeartbeatAt, row.StoppedAt), holderSince, holderActiveAt, now);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return (null, holderSince, holderActiveAt, now); // a database not migrated yet: the holder is starting too
        }
    }

    /// <summary>
    /// At every heartbeat: the name lock's connection still answers, or the lock is taken again on a new one. Not reachable
    /// (the database is away) or still held by this node's own lingering session: the next heartbeat tries again.
    /// </summary>
    public Task KeepAsync(CancellationToken ct) => db.Dialect == SqlDialect.Postgres && !_givenWay ? KeepNameAsync(ct) : Task.CompletedTask;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task KeepNameAsync(CancellationToken ct)
    {
        if (_nameLock is { } held)
        {
            try
            {
                await using var ping = new NpgsqlCommand("SELECT 1", held) { CommandTimeout = PingSeconds };
                await ping.ExecuteScalarAsync(ct);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                log.LogWarning("node {Node} lost the connection holding its name's lock ({Error}); taking it again", node.Name, e.Message);
                await DropNameLockAsync();
            }
        }
        try
        {
            if (await TryLockNameAsync(ct))
            {
                log.LogInformation("node {Node} holds its name's lock again", node.Name);
                _saidUnheld = false;
            }
            else if (!_saidUnheld)
            {
                // Said once until it is taken: a session still holds it (this node's own lingering one, or a squatter's).
                _saidUnheld = true;
                log.LogWarning("node {Node} runs without its name's lock: another database session holds it (see pg_locks); a second " +
                               "process under this name would not be refused at its start until that session ends", node.Name);
            }
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            log.LogDebug("node {Node} could not take its name's lock yet: {Error}", node.Name, e.Message);
        }
    }

    /// <summary>The heartbeat found another process's start in this node's row: that process runs under this name, so this one stops.</summary>
    public void GiveWay(long theirStart)
    {
        if (_givenWay) return;
        _givenWay = true;
        log.LogCritical("another Slipway server process started as node {Node} (at {Start:u}, database clock) while this one runs: two processes " +
                        "under one name would take each other's duties and jobs, so this one, the older, stops. Give one of them another name " +
                        "with --node-name", node.Name, DateTimeOffset.FromUnixTimeMilliseconds(theirStart));
        lifetime.StopApplication();
    }

    private async Task<bool> TryLockNameAsync(CancellationToken ct)
    {
        var connection = db.DedicatedPostgresConnection(); // the session lock lives as long as this connection
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
