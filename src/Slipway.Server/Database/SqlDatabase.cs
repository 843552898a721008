using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Slipway.Server.Database;

/// <summary>
/// The connection factory every store uses. Thread-safe.
/// SQLite allows one writer: writes go through <see cref="WriteAsync{T}"/>, which serialises them in this
/// process (so writers queue here instead of spinning on SQLITE_BUSY) and opens BEGIN IMMEDIATE transactions.
/// PostgreSQL writes run concurrently; stores guard races with conditional updates, never read-then-write.
/// </summary>
public sealed class SqlDatabase : IDisposable
{
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);
    // Typed as the base class, and created in CreatePostgres: a SQLite server then never loads Npgsql (its types
    // and code cost ~1.5 MiB of resident memory for nothing, issue 12).
    private readonly DbDataSource? _postgres;

    public SqlDialect Dialect { get; }
    public string ConnectionString { get; }

    static SqlDatabase()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    private SqlDatabase(SqlDialect dialect, string connectionString)
    {
        Dialect = dialect;
        ConnectionString = connectionString;
        if (dialect == SqlDialect.Postgres)
            _postgres = CreatePostgres(connectionString);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static DbDataSource CreatePostgres(string connectionString) => NpgsqlDataSource.Create(PoolSettings(connectionString));

    /// <summary>The operator's connection string with Slipway's defaults for what it leaves unset (reset, pool size).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static string PoolSettings(string connectionString)
    {
        // A pooled connection is reset (DISCARD ALL, a round trip and work for PostgreSQL) each time it is handed back,
        // about 15 times per job. Slipway leaves no session state behind (no SET, no prepared statements of its own,
        // advisory locks are per transaction, LISTEN keeps its own connection), so the reset is skipped unless the
        // operator's connection string asks for it.
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Sets(builder, "noresetonclose"))
            builder.NoResetOnClose = true;
        // At most DefaultMaxPoolSize connections per node unless the operator says otherwise (Npgsql's own default is 100).
        // A few busy connections are what PostgreSQL serves fastest; more only queue inside it (issue 15: bench/scale, two
        // nodes on a 2-core database went from 0.75 of one node's throughput at 40 connections each to 0.97-1.02 at 6),
        // and two nodes at 100 each would exceed PostgreSQL's default max_connections (100). docs/operations.md sizes it.
        if (!Sets(builder, "maximumpoolsize", "maxpoolsize"))
            builder.MaxPoolSize = Math.Max(DefaultMaxPoolSize, builder.MinPoolSize); // never below a minimum the operator set
        // Statements a connection runs again and again are prepared on the server, so PostgreSQL parses and plans them
        // once per connection instead of on every call (about 35 statements per job, nearly all of them the same few
        // dozen). PostgreSQL's CPU is what limits dispatch on a shared machine (bench/scale, issue 15). Slipway's SQL
        // names its columns, so a node's migration adding a column cannot change a prepared statement's result on
        // another node during a rolling upgrade. `Max Auto Prepare=0` turns it off (for example behind PgBouncer in
        // transaction mode before 1.21).
        if (!Sets(builder, "maxautoprepare"))
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        if (!Sets(builder, "autoprepareminusages"))
            builder.AutoPrepareMinUsages = 2;
        return builder.ConnectionString;
    }

    /// <summary>Connections per node to PostgreSQL when the connection string does not set <c>Maximum Pool Size</c>.</summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>Statements each connection keeps prepared when the connection string does not set <c>Max Auto Prepare</c>.</summary>
    public const int DefaultMaxAutoPrepare = 100;

    /// <summary>Whether the connection string set one of these keywords (given without spaces, in lower case).</summary>
    private static bool Sets(NpgsqlConnectionStringBuilder builder, params string[] keywords) =>
        builder.Keys.Cast<string>().Any(k => keywords.Contains(k.Replace(" ", "").ToLowerInvariant()));

    public static SqlDatabase ForSqliteFile(string path) =>
        new(SqlDialect.Sqlite, new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = 5,
            Pooling = true,
        }.ToString());

    /// <param name="connectionString">Npgsql's <c>Host=...;Username=...</c> form or a <c>postgres://</c> URL (<see cref="PostgresAddress"/>).</param>
    public static SqlDatabase ForPostgres(string connectionString) => new(SqlDialect.Postgres, PostgresAddress.ToConnectionString(connectionString));

    /// <summary>
    /// A PostgreSQL connection of its own, outside the pool, not yet open: for what lives as long as a session (a LISTEN, a
    /// session advisory lock), which must never be handed to another user of the pool (pooled connections are not reset
    /// when handed back). Npgsql's keepalive query every 15 s finds a connection a network cut left half-open.
    /// </summary>
    public NpgsqlConnection DedicatedPostgresConnection() =>
        new(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, KeepAlive = 15 }.ConnectionString);

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        if (_postgres is not null)
            return await _postgres.OpenConnectionAsync(ct);
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct);
        // Per-connection settings: WAL is persistent, the rest is not.
        await connection.ExecuteAsync("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;");
        return connection;
    }

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        return await work(connection);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction; commits if it returns, rolls back if it throws. Inside a duty's
    /// pass (<see cref="DutyFence.Current"/>) the transaction first proves the node still holds the duty's lease, else
    /// throws <see cref="DutyLostException"/> before <paramref name="work"/> runs.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct = default)
    {
        var isSqlite = Dialect == SqlDialect.Sqlite;
        var fence = DutyFence.Current;
        if (isSqlite) await _sqliteWriter.WaitAsync(ct);
        try
        {
            await using var connection = await OpenAsync(ct);
            await using var tx = isSqlite
                ? ((SqliteConnection)connection).BeginTransaction(deferred: false)
                : await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            if (fence is not null) await fence.CheckAsync(connection, tx, Dialect);
            var result = await work(connection, tx);
            await tx.CommitAsync(ct);
            return result;
        }
        finally
        {
            if (isSqlite) _sqliteWriter.Release();
        }
    }

    public Task WriteAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken ct = default) =>
        WriteAsync<bool>(async (c, t) => { await work(c, t); return true; }, ct);

    /// <summary>True when a write was refused by a unique index (SQLite constraint error, PostgreSQL 23505): a lost race for a one-of-a-kind row.</summary>
    public static bool IsUniqueViolation(DbException e) =>
        e is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 } or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public void Dispose()
    {
        _postgres?.Dispose();
        _sqliteWriter.Dispose();
    }
}
