using Npgsql;

namespace Slipway.Bench.Scale;

/// <summary>
/// Where the database's time goes, without an extension: samples pg_stat_activity every 20 ms while a measurement runs
/// and counts the statements found active on the bench's database. A statement seen in many samples is one the server
/// spends long in (or runs very often); the top of the list is where to look when a figure is slow.
/// </summary>
public sealed class QuerySampler : IAsyncDisposable
{
    private readonly Dictionary<string, int> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private int _samples;

    private QuerySampler(string database) => _sampling = Task.Run(() => SampleAsync(database));

    public static QuerySampler Start(string database) => new(database);

    private async Task SampleAsync(string database)
    {
        var name = new NpgsqlConnectionStringBuilder(database).Database;
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_activity " +
            "WHERE datname = @name AND state = 'active' AND pid <> pg_backend_pid()", connection);
        command.Parameters.AddWithValue("name", name!);
        while (!_stop.IsCancellationRequested)
        {
            await using (var reader = await command.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                {
                    var query = reader.GetString(0);
                    lock (_seen) _seen[query] = _seen.GetValueOrDefault(query) + 1;
                }
            _samples++;
            try { await Task.Delay(20, _stop.Token); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Stops sampling and prints the statements seen most, with how many of the samples found each active.</summary>
    public async Task PrintAsync(string title, int top = 6)
    {
        await _stop.CancelAsync();
        await _sampling;
        Console.WriteLine($"  {title}: statements most often active in {_samples} samples of pg_stat_activity");
        lock (_seen)
            foreach (var (query, count) in _seen.OrderByDescending(p => p.Value).Take(top))
                Console.WriteLine($"    {count,6}  {query}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        try { await _sampling; } catch (Exception) { }
    }
}
