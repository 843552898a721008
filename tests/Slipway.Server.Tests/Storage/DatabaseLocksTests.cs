using Dapper;
using Slipway.Testing;

namespace Slipway.Server.Tests.Storage;

/// <summary>Named locks across server nodes: PostgreSQL advisory locks between two database handles ("nodes"), a process lock on SQLite.</summary>
[Collection("postgres")]
public sealed class DatabaseLocksTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    [Theory, MemberData(nameof(Dialects))]
    public async Task ASecondHolder_WaitsUntilTheFirstReleases_OtherNamesDoNot(string dialect)
    {
        using var db1 = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        using var db2 = dialect == "postgres" ? SqlDatabase.ForPostgres(db1.ConnectionString) : null;
        var node1 = new DatabaseLocks(db1);
        var node2 = dialect == "postgres" ? new DatabaseLocks(db2!) : node1;

        var first = await node1.AcquireAsync("repository:1");
        var second = node2.AcquireAsync("repository:1");
        await using (await node2.AcquireAsync("repository:2")) { } // another name is free
        await Task.Delay(300);
        Assert.False(second.IsCompleted, "the second holder must wait");
        await first.DisposeAsync();
        await using (await second.WaitAsync(TimeSpan.FromSeconds(10))) { }
    }

    [Fact]
    public async Task ALockOfANodeWhoseConnectionDies_IsReleasedByPostgres()
    {
        using var db1 = await MigratedDatabase.OpenAsync("postgres", _dir, postgres);
        using var db2 = SqlDatabase.ForPostgres(db1.ConnectionString);
        var held = await new DatabaseLocks(db1).AcquireAsync("deployment-repair");
        var waiting = new DatabaseLocks(db2).AcquireAsync("deployment-repair");
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        // The holder's backend is killed, as if its node died: PostgreSQL ends the transaction and frees the lock.
        var key = DatabaseLocks.KeyOf("deployment-repair");
        await db2.ReadAsync(c => c.ExecuteAsync(
            """
            SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = @key
            """, new { key }));
        await using (await waiting.WaitAsync(TimeSpan.FromSeconds(10))) { }
        try { await held.DisposeAsync(); } catch (Exception) { } // its connection is gone; disposing must not hang
    }

    /// <summary>
    /// A crowd of waiters behind one holder (merges behind a slow push) wait in the process, not each on a pooled
    /// connection: the node's other database work goes on with a pool of 4, and every waiter gets the lock in turn.
    /// </summary>
    [Fact]
    public async Task ManyWaitersOnOneName_DoNotTakeTheNodesConnections()
    {
        using var migrated = await MigratedDatabase.OpenAsync("postgres", _dir, postgres);
        using var db = SqlDatabase.ForPostgres(new Npgsql.NpgsqlConnectionStringBuilder(migrated.ConnectionString) { MaxPoolSize = 4, Timeout = 3 }.ConnectionString);
        var locks = new DatabaseLocks(db);
        var held = await locks.AcquireAsync("repository:1");
        var waiters = Enumerable.Range(0, 10).Select(_ => Task.Run(async () => { await using (await locks.AcquireAsync("repository:1")) { } })).ToList();
        await Task.Delay(300);

        Assert.Equal(1, await db.ReadAsync(c => c.ExecuteScalarAsync<int>("SELECT 1"))); // would time out with 10 waiting connections

        Assert.All(waiters, w => Assert.False(w.IsCompleted));
        await held.DisposeAsync();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task CancellingAWait_LeavesTheLockUsable()
    {
        using var db = await MigratedDatabase.OpenAsync("sqlite", _dir, postgres);
        var locks = new DatabaseLocks(db);
        var held = await locks.AcquireAsync("x");
        using var cancel = new CancellationTokenSource(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => locks.AcquireAsync("x", cancel.Token));
        await held.DisposeAsync();
        await using (await locks.AcquireAsync("x").WaitAsync(TimeSpan.FromSeconds(5))) { }
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ABoundedWait_EndsWithLockBusy_AndLeavesTheLockUsable(string dialect)
    {
        using var db1 = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        using var db2 = dialect == "postgres" ? SqlDatabase.ForPostgres(db1.ConnectionString) : null;
        var node1 = new DatabaseLocks(db1);
        var node2 = dialect == "postgres" ? new DatabaseLocks(db2!) : node1;
        var held = await node1.AcquireAsync("repository:9");
        var busy = await Assert.ThrowsAsync<LockBusyException>(() => node2.AcquireAsync("repository:9", wait: TimeSpan.FromMilliseconds(300)));
        Assert.Contains("'repository:9' is busy", busy.Message);
        await held.DisposeAsync();
        await using (await node2.AcquireAsync("repository:9", wait: TimeSpan.FromSeconds(5))) { }
    }

    public void Dispose() => _dir.Dispose();
}
