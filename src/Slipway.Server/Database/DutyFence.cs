using System.Data.Common;
using Dapper;

namespace Slipway.Server.Database;

/// <summary>
/// The fence of a duty's pass: the duty, the node that holds its lease and the fencing token it held it under. Set by
/// <see cref="PeriodicWorker"/> around each pass of a worker with a duty (an <see cref="AsyncLocal{T}"/>, so it follows
/// the pass into everything it awaits and every task it starts, and into nothing else) and checked by
/// <see cref="SqlDatabase.WriteAsync{T}"/> in the transaction of every write: a node that lost its lease (paused past
/// it, cut off from the database, drained) cannot write as if it still held the duty after another node took it over.
/// </summary>
public sealed record DutyFence(string Duty, string Holder, long Token)
{
    private static readonly AsyncLocal<DutyFence?> Ambient = new();

    /// <summary>The fence of the pass this code runs in, or null outside a duty's pass (API requests, per-node workers).</summary>
    public static DutyFence? Current => Ambient.Value;

    /// <summary>Runs <paramref name="pass"/> (and whatever it starts) under <paramref name="fence"/>.</summary>
    public static Task RunUnderAsync(DutyFence fence, Func<Task> pass) => WithAsync(fence, async () => { await pass(); return true; });

    /// <summary>
    /// Runs <paramref name="work"/> outside any duty's fence: for a write that follows from what the pass already wrote under
    /// its fence and must not be lost if the lease goes in between (an alert about a check result recorded under it).
    /// </summary>
    public static Task<T> RunOutsideAsync<T>(Func<Task<T>> work) => WithAsync(null, work);

    private static async Task<T> WithAsync<T>(DutyFence? fence, Func<Task<T>> work)
    {
        var outer = Ambient.Value;
        Ambient.Value = fence;
        try { return await work(); }
        finally { Ambient.Value = outer; }
    }

    /// <summary>
    /// Checks, inside <paramref name="tx"/>, that the lease is still this fence's and unexpired on the database's clock;
    /// throws <see cref="DutyLostException"/> (the caller's transaction then rolls back) when not. On PostgreSQL the lease
    /// row is locked FOR SHARE until the transaction ends, so a takeover (an UPDATE of that row) waits for this write to
    /// commit or roll back: a write is either wholly before the takeover or refused. SQLite's single writer gives the same.
    /// </summary>
    internal async Task CheckAsync(DbConnection connection, DbTransaction tx, SqlDialect dialect)
    {
        var sql = "SELECT fencing_token FROM duty_leases WHERE duty = @Duty AND holder = @Holder AND fencing_token = @Token " +
                  $"AND expires_at > {DbClock.NowMs(dialect)}" + (dialect == SqlDialect.Postgres ? " FOR SHARE" : "");
        if (await connection.ExecuteScalarAsync<long?>(sql, new { Duty, Holder, Token }, tx) is null)
            throw new DutyLostException(this);
    }
}

/// <summary>
/// A duty's write refused because its node no longer holds the duty's lease under the same fencing token (it expired, or
/// another node took it over, or the node drained). The write's transaction was rolled back; the pass ends with a warning
/// and the duty goes on wherever its lease now is.
/// </summary>
public sealed class DutyLostException(DutyFence fence)
    : InvalidOperationException($"node {fence.Holder} no longer holds the lease of duty '{fence.Duty}' under fencing token {fence.Token}; the write was refused and rolled back")
{
    public DutyFence Fence { get; } = fence;
}
