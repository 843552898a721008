using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace Slipway.Server.Database;

/// <summary>
/// Named locks that hold across every server node sharing the database (issue 15): merges into one target branch,
/// pushes into one hosted repository, repairs. On PostgreSQL a lock is a transaction-level advisory lock
/// (pg_advisory_xact_lock) on a connection of its own, held until the handle is disposed and released by the database
/// itself if the node dies; on SQLite (one node by definition) it is a lock in this process.
/// </summary>
public sealed class DatabaseLocks(SqlDatabase database)
{
    private readonly ConcurrentDictionary<string, LocalLock> _local = new();

    /// <summary>
    /// Waits for the lock named <paramref name="name"/>, at most <paramref name="wait"/> when given (then
    /// <see cref="LockBusyException"/>); dispose the handle to release it. On PostgreSQL only the first waiter of a node holds
    /// a pooled connection while it waits; the others wait in the process. Locks users can keep busy (a slow push) take a
    /// bounded wait all the same.
    /// </summary>
    public Task<IAsyncDisposable> AcquireAsync(string name, CancellationToken ct = default, TimeSpan? wait = null) =>
        database.Dialect == SqlDialect.Postgres ? AcquireAdvisoryAsync(name, wait, ct) : AcquireLocalAsync(name, wait, ct);

    /// <summary>
    /// Takes the lock named <paramref name="name"/> inside a write transaction the caller already holds, until it ends: a
    /// check and the write it allows become one step for every node (pg_advisory_xact_lock on that same connection, so no
    /// second pooled connection is held across the work). On SQLite nothing to do: its writes run one at a time anyway.
    /// </summary>
    public static Task InTransactionAsync(SqlDatabase database, DbConnection connection, DbTransaction tx, string name) =>
        database.Dialect == SqlDialect.Postgres
            ? connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = KeyOf(name) }, tx)
            : Task.CompletedTask;

    /// <summary>The 64-bit advisory-lock key of a name: the first 8 bytes of its SHA-256, the same on every node.</summary>
    public static long KeyOf(string name) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(name)), 0);

    private async Task<IAsyncDisposable> AcquireAdvisoryAsync(string name, TimeSpan? wait, CancellationToken ct)
    {
        // This node's waiters queue in the process first, without a connection: at most one connection per name and node
        // waits inside PostgreSQL, so a crowd of requests behind one slow holder (merges behind a trickled push) cannot
        // take every pooled connection and stall the node's claims, heartbeats and duties.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var local = await AcquireLocalAsync(name, wait, ct);
        try
        {
            var left = wait - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) throw new LockBusyException(name, wait!.Value);
            var connection = await database.OpenAsync(ct);
            try
            {
                var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                if (left is { } limit)
                    await connection.ExecuteAsync($"SET LOCAL lock_timeout = {(long)Math.Max(1, limit.TotalMilliseconds)}", transaction: tx);
                try
                {
                    await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = KeyOf(name) }, tx,
                        commandTimeout: 0, cancellationToken: ct));
                }
                catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.LockNotAvailable)
                {
                    throw new LockBusyException(name, wait!.Value);
                }
                return new AdvisoryHandle(connection, tx, local);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
    }

    private async Task<IAsyncDisposable> AcquireLocalAsync(string name, TimeSpan? wait, CancellationToken ct)
    {
        // Reference-counted so the table holds only locks in use, not one per name ever seen.
        LocalLock entry;
        lock (_local)
        {
            entry = _local.GetOrAdd(name, _ => new LocalLock());
            entry.Users++;
        }
        bool entered;
        try { entered = await entry.Gate.WaitAsync(wait ?? Timeout.InfiniteTimeSpan, ct); }
        catch { Leave(name, entry); throw; }
        if (!entered)
        {
            Leave(name, entry);
            throw new LockBusyException(name, wait!.Value);
        }
        return new LocalHandle(() => { entry.Gate.Release(); Leave(name, entry); });
    }

    private void Leave(string name, LocalLock entry)
    {
        lock (_local)
        {
            if (--entry.Users == 0) _local.TryRemove(name, out _);
        }
    }

    private sealed class LocalLock
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public int Users;
    }

    private sealed class LocalHandle(Action release) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) release();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class AdvisoryHandle(DbConnection connection, DbTransaction tx, IAsyncDisposable local) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try { await tx.CommitAsync(); } // ends the transaction, which releases the lock
            finally
            {
                await tx.DisposeAsync();
                await connection.DisposeAsync();
                await local.DisposeAsync();
            }
        }
    }
}

/// <summary>A lock still held by someone else when the bounded wait for it ended.</summary>
public sealed class LockBusyException(string name, TimeSpan waited)
    : TimeoutException($"'{name}' is busy: another node or request held it for {waited.TotalSeconds:0} s; try again");
