using System.Threading.Channels;
using Slipway.Core.Audit;
using Slipway.Server.Storage;

namespace Slipway.Server.Audit;

/// <summary>
/// Writes audit entries with group commit: concurrent callers are batched into one transaction (one chain
/// extension), and each caller's task completes only once its entry is committed. An action whose entry
/// cannot be written fails with it — nothing happens unaudited.
/// Thread-safe; one writer loop per process, started on first use and stopped on dispose.
/// </summary>
public sealed class AuditLog : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly AuditStore _store;
    private readonly TimeProvider _clock;
    private readonly Channel<(AuditEntry Entry, TaskCompletionSource Done)> _queue =
        Channel.CreateUnbounded<(AuditEntry, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public AuditLog(AuditStore store, TimeProvider clock)
    {
        _store = store;
        _clock = clock;
        _writer = Task.Run(WriteLoopAsync);
    }

    public Task RecordAsync(AuditRecord record)
    {
        var entry = new AuditEntry(0, DateTimeOffset.FromUnixTimeMilliseconds(_clock.GetUtcNow().ToUnixTimeMilliseconds()),
            record.ActorKind, record.Actor, record.Source, record.Action, Limit(record.Target, 1000), record.Outcome,
            Limit(record.Detail, 2000), record.RequestId, "", "");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((entry, done))) throw new ObjectDisposedException(nameof(AuditLog), "the audit log is stopped");
        return done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<(AuditEntry Entry, TaskCompletionSource Done)>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                await _store.AppendAsync(batch.Select(b => b.Entry).ToList());
                foreach (var item in batch) item.Done.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var item in batch) item.Done.TrySetException(new InvalidOperationException("could not write the audit log: " + e.Message, e));
            }
        }
    }

    private static string? Limit(string? text, int max) => text is null || text.Length <= max ? text : text[..max] + "…";

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}

/// <summary>What happened, before it is placed on the chain.</summary>
public sealed record AuditRecord(string ActorKind, string Actor, string? Source, string Action, string? Target, string Outcome,
    string? Detail = null, string? RequestId = null);
