namespace Slipway.Server.Database;

/// <summary>Timestamps are stored as unix milliseconds (UTC) in both databases.</summary>
public static class UnixMs
{
    public static long From(DateTimeOffset t) => t.ToUnixTimeMilliseconds();
    public static DateTimeOffset To(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
    public static DateTimeOffset? To(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
}

/// <summary>
/// The database's own clock as a SQL expression giving unix milliseconds, for what several server nodes must agree on
/// (heartbeats, duty leases): on PostgreSQL the server's clock_timestamp(), the same for every node however skewed their
/// own clocks are; on SQLite (one process, one machine) the machine's clock, read by SQLite itself.
/// </summary>
public static class DbClock
{
    public static string NowMs(SqlDialect dialect) => dialect == SqlDialect.Postgres
        ? "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint"
        : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}
