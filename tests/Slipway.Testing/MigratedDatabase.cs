using Xunit;

namespace Slipway.Testing;

/// <summary>A fresh, migrated database of either dialect for store tests: a new SQLite file, or a new PostgreSQL database.</summary>
public static class MigratedDatabase
{
    public static TheoryData<string> Dialects => new() { "sqlite", "postgres" };

    public static async Task<SqlDatabase> OpenAsync(string dialect, TempDirectory folder, PostgresFixture postgres)
    {
        var db = dialect == "sqlite"
            ? SqlDatabase.ForSqliteFile(Path.Combine(folder.Path, Guid.NewGuid().ToString("N") + ".db"))
            : SqlDatabase.ForPostgres(await postgres.CreateDatabaseAsync());
        Migrator.Upgrade(db);
        return db;
    }
}
