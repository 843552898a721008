using System.Data.Common;

namespace Slipway.Server.Database;

/// <summary>The two databases Slipway runs on. SQL is written to be valid on both; where it is not,
/// stores branch on this value (and migrations have one script per dialect).</summary>
public enum SqlDialect { Sqlite, Postgres }

public static class SqlDialects
{
    /// <summary>
    /// The dialect of an open connection, for the few statements that differ (row locks). Read from the connection's
    /// namespace, not with <c>c is NpgsqlConnection</c>: a type test makes the runtime load Npgsql into a SQLite server
    /// (about 1.5 MiB of idle memory, issue 12).
    /// </summary>
    public static SqlDialect Of(DbConnection c) =>
        c.GetType().Namespace == "Npgsql" ? SqlDialect.Postgres : SqlDialect.Sqlite;
}
