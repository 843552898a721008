using Npgsql;

namespace Slipway.Bench.Scale;

/// <summary>
/// What the database did during a measurement, from pg_stat_statements: the statements that took the most time, with
/// their calls per job, so a slow figure points at its queries. The extension is loaded into the bench's own cluster
/// only (a restart after ALTER SYSTEM) and created in its "postgres" database; it counts every database's statements.
/// </summary>
public sealed class StatementStats(string adminDatabase)
{
    public static async Task<StatementStats> EnableAsync(Slipway.Testing.PostgresServer postgres)
    {
        var admin = postgres.ConnectionString("postgres");
        await Execute(admin, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
        NpgsqlConnection.ClearAllPools();
        await postgres.StopAsync();
        await postgres.StartAgainAsync();
        await Execute(admin, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        return new StatementStats(admin);
    }

    public Task ResetAsync() => Execute(adminDatabase, "SELECT pg_stat_statements_reset()");

    /// <summary>Prints the statements of <paramref name="database"/> with the most total time since the last reset.</summary>
    public async Task PrintAsync(string database, int jobs, int top = 8)
    {
        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        await using var connection = new NpgsqlConnection(adminDatabase);
        await connection.OpenAsync();
        // All of them first: with several nodes the count per job shows what sharing the database adds (wake-ups that
        // find nothing, smaller audit batches), which the time of the top few hides.
        await using (var all = new NpgsqlCommand(
            "SELECT COALESCE(SUM(calls), 0), COALESCE(SUM(total_exec_time), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = @name)", connection))
        {
            all.Parameters.AddWithValue("name", name);
            await using var sums = await all.ExecuteReaderAsync();
            await sums.ReadAsync();
            Console.WriteLine($"  all statements: {sums.GetDecimal(0) / jobs:F1} per job, {sums.GetDouble(1):F0} ms in all");
        }
        top = int.TryParse(Environment.GetEnvironmentVariable("STATEMENTS"), out var wanted) ? wanted : top;
        await using var command = new NpgsqlCommand(
            "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 150) FROM pg_stat_statements " +
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = @name) ORDER BY total_exec_time DESC LIMIT @top", connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("top", top);
        Console.WriteLine("  statements with the most database time during the batch (pg_stat_statements): calls per job, total ms, query");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            Console.WriteLine($"    {reader.GetInt64(0) / (double)jobs,6:F2} {reader.GetDouble(1),8:F0}  {reader.GetString(2)}");
    }

    private static async Task Execute(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
