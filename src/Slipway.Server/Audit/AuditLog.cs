using System.Threading.Channels;
using Slipway.Core.Audit;

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
        // The writer must not inherit the context of whoever first asked for the log: inside a duty's pass that would be
        // the pass's DutyFence, and every later audit write would be checked against a lease long gone.
        using (ExecutionContext.SuppressFlow()) _writer = Task.Run(WriteLoopAsync);
    }

    public Task RecordAsync(AuditRecord record)
    {
        // Anonymous callers choose the actor (a username at sign-in) and the target (the path): cap their size and
        // replace control characters (PostgreSQL refuses NUL in text), so no caller can grow or break the log.
        var entry = new AuditEntry(0, DateTimeOffset.FromUnixTimeMilliseconds(_clock.GetUtcNow().ToUnixTimeMilliseconds()),
            record.ActorKind, Clean(record.Actor, 128) ?? "-", Clean(record.Source, 64), record.Action, Clean(record.Target, 1000), record.Outcome,
            Clean(record.Detail, 2000), Clean(record.RequestId, 128), "", "");
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
            catch (Exception) when (batch.Count > 1)
            {
                // One entry the database refuses must not fail its neighbours: write them one by one.
                foreach (var item in batch) await AppendOneAsync(item);
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(Failure(e));
            }
        }
    }

    private async Task AppendOneAsync((AuditEntry Entry, TaskCompletionSource Done) item)
    {
        try
        {
            await _store.AppendAsync([item.Entry]);
            item.Done.TrySetResult();
        }
        catch (Exception e) { item.Done.TrySetException(Failure(e)); }
    }

    private static InvalidOperationException Failure(Exception e) => new("could not write the audit log: " + e.Message, e);

    private static string? Clean(string? text, int max)
    {
        if (text is null) return null;
        if (text.Length > max) text = text[..max] + "…";
        return text.Any(IsUnsafe) ? new string(text.Select(c => IsUnsafe(c) ? '\uFFFD' : c).ToArray()) : text;
    }

    /// <summary>Control characters other than tab and line breaks (which details may legitimately hold).</summary>
    private static bool IsUnsafe(char c) => char.IsControl(c) && c is not ('\t' or '\n' or '\r');

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}

/// <summary>What happened, before it is placed on the chain.</summary>
public sealed record AuditRecord(string ActorKind, string Actor, string? Source, string Action, string? Target, string Outcome,
    string? Detail = null, string? RequestId = null);
