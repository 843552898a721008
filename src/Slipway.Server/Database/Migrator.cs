using System.Reflection;
using DbUp;
using DbUp.Builder;
using DbUp.Engine;

namespace Slipway.Server.Database;

/// <summary>
/// Brings the schema up to date at start-up with DbUp. Scripts are embedded resources under
/// Database/Migrations/{sqlite|postgres}/NNNN_name.sql and journaled by resource name, so never rename the project,
/// a script or a resource name once it has shipped: the names still say Storage.Migrations, the folder they shipped
/// from (fixed by LogicalName in the project file).
/// </summary>
public static class Migrator
{
    public static void Upgrade(SqlDatabase database)
    {
        // Several nodes started at once on an empty database would each run the first script, and all but one fail on the
        // tables the first made: on PostgreSQL they take turns under a session lock, and the later ones find nothing to do.
        using var turn = database.Dialect == SqlDialect.Postgres ? HoldPostgresTurn(database.ConnectionString) : null;
        var assembly = typeof(Migrator).Assembly;
        var folder = database.Dialect == SqlDialect.Sqlite ? ".Storage.Migrations.sqlite." : ".Storage.Migrations.postgres.";
        // SQLite scripts run with foreign keys off: rebuilding a table (the only way SQLite drops a NOT NULL or a UNIQUE
        // constraint, 0014) drops a table others refer to, and PRAGMA foreign_keys cannot change inside the script's
        // transaction. Rebuilds keep every id, so the references hold again when the script ends.
        var builder = database.Dialect == SqlDialect.Sqlite
            ? DeployChanges.To.SqliteDatabase(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString) { ForeignKeys = false }.ToString())
            : ForPostgres(database.ConnectionString);
        var upgrader = builder
            .WithScriptsEmbeddedInAssembly(assembly, name => name.Contains(folder, StringComparison.Ordinal))
            .WithTransactionPerScript()
            .WithVariablesDisabled() // PostgreSQL function bodies use $body$ quoting
            .LogToNowhere()
            .Build();
        DatabaseUpgradeResult result = upgrader.PerformUpgrade();
        if (!result.Successful)
            throw new InvalidOperationException(
                $"database migration failed at script {result.ErrorScript?.Name ?? "?"}: {result.Error?.Message}", result.Error);
    }

    /// <summary>
    /// Waits for this node's turn to migrate: a session advisory lock on a connection of its own (not pooled, so the lock
    /// cannot outlive it in a pooled session), released when the turn is disposed, or by PostgreSQL if the node dies.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static IDisposable HoldPostgresTurn(string connectionString)
    {
        var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var take = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection) { CommandTimeout = 0 };
        take.Parameters.AddWithValue("key", DatabaseLocks.KeyOf("schema-migrations"));
        take.ExecuteNonQuery();
        return connection; // closing the session ends the lock
    }

    /// <summary>Apart, so that a SQLite server never loads dbup-postgresql and Npgsql (issue 12).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static UpgradeEngineBuilder ForPostgres(string connectionString) => DeployChanges.To.PostgresqlDatabase(connectionString);
}
