using Npgsql;

namespace Slipway.Bench.Scale;

/// <summary>Prints the row counts of the seeded tables: the figures say what history they were measured on.</summary>
public static class TableSizes
{
    private static readonly string[] Tables =
        ["projects", "runs", "stages", "jobs", "releases", "deployments", "work_items", "work_item_links", "change_requests", "audit_log"];

    public static async Task PrintAsync(NpgsqlConnection connection)
    {
        var parts = new List<string>();
        foreach (var table in Tables)
        {
            await using var command = new NpgsqlCommand($"SELECT COUNT(*) FROM {table}", connection);
            parts.Add($"{table} {Convert.ToInt64(await command.ExecuteScalarAsync())}");
        }
        await using var size = new NpgsqlCommand("SELECT pg_size_pretty(pg_database_size(current_database()))", connection);
        Console.WriteLine($"  rows: {string.Join(", ", parts)}; database {await size.ExecuteScalarAsync()}");
    }
}
