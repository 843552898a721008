using System.Reflection;
using DbUp;
using DbUp.Engine;

namespace Slipway.Server.Storage;

/// <summary>
/// Brings the schema up to date at start-up with DbUp. Scripts are embedded resources under
/// Storage/Migrations/{sqlite|postgres}/NNNN_name.sql and journaled by resource name, so never rename
/// the project, the namespace or a script once it has shipped.
/// </summary>
public static class Migrator
{
    public static void Upgrade(Database database)
    {
        var assembly = typeof(Migrator).Assembly;
        var folder = database.Dialect == SqlDialect.Sqlite ? ".Storage.Migrations.sqlite." : ".Storage.Migrations.postgres.";
        var builder = database.Dialect == SqlDialect.Sqlite
            ? DeployChanges.To.SqliteDatabase(database.ConnectionString)
            : DeployChanges.To.PostgresqlDatabase(database.ConnectionString);
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
}
