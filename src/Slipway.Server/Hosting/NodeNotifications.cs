using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Slipway.Server.Hosting;

/// <summary>
/// Carries <see cref="WorkSignal"/> wake-ups between server nodes on PostgreSQL with LISTEN/NOTIFY on the channel
/// <see cref="Channel"/>: this node publishes its signals (deduplicated in batches) and wakes its own waiters for the
/// signals of others. Only a wake-up: after a lost connection this node wakes all its waiters, which re-read the
/// database, then listens again. Does nothing on SQLite (one node).
/// </summary>
public sealed class NodeNotifications(SqlDatabase database, WorkSignal signal, ILogger<NodeNotifications> log) : BackgroundService
{
    public const string Channel = "slipway_signal";

    // Every payload starts with this process's mark, so the listener skips its own signals: they woke this node's
    // waiters already, and a second wake-up only sends them to the database again for nothing.
    private readonly string _mark = Guid.NewGuid().ToString("N")[..12] + ":";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        database.Dialect == SqlDialect.Postgres ? RunAsync(stoppingToken) : Task.CompletedTask;

    [MethodImpl(MethodImplOptions.NoInlining)] // a SQLite server never loads Npgsql's types (idle memory, issue 12)
    private Task RunAsync(CancellationToken ct)
    {
        var outgoing = signal.Distribute();
        return Task.WhenAll(ListenAsync(ct), PublishAsync(outgoing, ct));
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // Its keepalive finds a connection a network cut left half-open, so this node listens again instead of going deaf.
                await using var connection = database.DedicatedPostgresConnection();
                await connection.OpenAsync(ct);
                connection.Notification += (_, e) =>
                {
                    if (!e.Payload.StartsWith(_mark, StringComparison.Ordinal)) signal.SignalHere(e.Payload[(e.Payload.IndexOf(':') + 1)..]);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
                // Anything signalled while this node was not listening was missed: everyone re-reads now.
                signal.SignalAllHere();
                delay = TimeSpan.FromMilliseconds(200);
                while (!ct.IsCancellationRequested) await connection.WaitAsync(TimeSpan.FromSeconds(30), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                log.LogWarning("listening for other nodes' signals failed ({Error}); listening again in {Delay}", e.Message, delay);
                try { await Task.Delay(delay, ct); } catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task PublishAsync(ChannelReader<string> outgoing, CancellationToken ct)
    {
        var batch = new HashSet<string>(StringComparer.Ordinal);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!await outgoing.WaitToReadAsync(ct)) return;
                while (batch.Count < 500 && outgoing.TryRead(out var key)) batch.Add(key);
                await using var connection = (NpgsqlConnection)await database.OpenAsync(ct);
                await using var batchCommand = new NpgsqlBatch(connection);
                foreach (var key in batch)
                    batchCommand.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify(@channel, @key)")
                        { Parameters = { new("channel", Channel), new("key", _mark + key) } });
                await batchCommand.ExecuteNonQueryAsync(ct);
                batch.Clear();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                // Dropped: the other nodes' waiters wake on their own timeouts and re-read.
                log.LogWarning("could not tell the other nodes about {Count} signals ({Error})", batch.Count, e.Message);
                batch.Clear();
                try { await Task.Delay(500, ct); } catch (OperationCanceledException) { return; }
            }
        }
    }
}
