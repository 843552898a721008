using Slipway.Agent.Protocol;
using Slipway.Contracts.Agents;
using Slipway.Core.Secrets;

namespace Slipway.Agent.Execution;

/// <summary>
/// Sends a job's output to the server in batches while the job runs. Writes never wait for the network
/// unless more than the buffer limit is pending (then the job is slowed, which bounds memory); one sender
/// loop coalesces whatever accumulated during the previous call. Once the server reports the log
/// truncated, further output is dropped here (the job still runs to its end).
/// Secrets: when the lease names secret variables, the job's output goes through a <see cref="SecretMasker"/>
/// before it is queued, and notes are masked too, so no secret value ever leaves the agent. The masker may hold
/// back a few bytes that could be the start of a secret; <see cref="EndOutputAsync"/> (output closed) and
/// <see cref="CompleteAsync"/> release them.
/// Thread-safety: <see cref="WriteAsync"/> is called by one reader; the sender runs on its own task; the masker
/// is guarded by its own lock because a note or the end of output may come while a reader is still writing.
/// </summary>
public sealed class LogShipper
{
    private const int MaxSendAttempts = 5;
    private readonly IAgentProtocol _client;
    private readonly JobLease _lease;
    private readonly int _batchBytes;
    private readonly int _bufferBytes;
    private readonly object _gate = new();
    private readonly MemoryStream _pending = new();
    private readonly SemaphoreSlim _dataReady = new(0, 1);
    private readonly SemaphoreSlim _roomReady = new(0, 1);
    private readonly SecretMasker? _masker;
    private readonly object _maskGate = new();
    private bool _completed;
    private Task? _sender;

    public LogShipper(IAgentProtocol client, JobLease lease, int batchBytes, int bufferBytes)
    {
        _client = client;
        _lease = lease;
        _batchBytes = batchBytes;
        _bufferBytes = bufferBytes;
        var masker = new SecretMasker(SecretValues(lease));
        _masker = masker.IsEmpty ? null : masker;
    }

    /// <summary>The values of the lease's secret variables.</summary>
    public static IReadOnlyList<string> SecretValues(JobLease lease) =>
        (lease.SecretNames ?? []).Select(n => lease.Env.TryGetValue(n, out var v) ? v : null).OfType<string>().ToList();

    /// <summary>The text with every secret of the job masked (failure reasons, report messages).</summary>
    public string Mask(string text) => _masker?.MaskText(text) ?? text;

    public bool Truncated { get; private set; }
    public bool CancelRequested { get; private set; }
    public Exception? Failure { get; private set; }

    public void Start(CancellationToken ct) => _sender = Task.Run(() => SendLoopAsync(ct), ct);

    /// <summary>Queues the job's output (masked).</summary>
    public Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        if (_masker is null) return EnqueueAsync(bytes, ct);
        byte[] masked;
        lock (_maskGate) masked = _masker.Process(bytes.Span);
        return masked.Length == 0 ? Task.CompletedTask : EnqueueAsync(masked, ct);
    }

    /// <summary>The job's output is closed: release what the masker held back (masked).</summary>
    public Task EndOutputAsync(CancellationToken ct)
    {
        if (_masker is null) return Task.CompletedTask;
        byte[] held;
        lock (_maskGate) held = _masker.Flush();
        return held.Length == 0 ? Task.CompletedTask : EnqueueAsync(held, ct);
    }

    private async Task EnqueueAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        if (Truncated || Failure is not null) return;
        while (true)
        {
            if (Truncated || Failure is not null) return; // the sender is gone: never wait for room again
            lock (_gate)
            {
                if (_pending.Length < _bufferBytes)
                {
                    _pending.Write(bytes.Span);
                    break;
                }
            }
            await _roomReady.WaitAsync(TimeSpan.FromMilliseconds(100), ct);
        }
        Release(_dataReady);
    }

    /// <summary>Text written by the agent itself (not the job), e.g. why a job stopped.</summary>
    public Task NoteAsync(string line, CancellationToken ct) => EnqueueAsync(System.Text.Encoding.UTF8.GetBytes(Mask($"\n[slipway] {line}\n")), ct);

    /// <summary>Sends what is left and stops the sender.</summary>
    public async Task CompleteAsync()
    {
        await EndOutputAsync(CancellationToken.None);
        lock (_gate) _completed = true;
        Release(_dataReady);
        if (_sender is not null) await _sender;
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        while (true)
        {
            byte[] batch;
            bool done;
            lock (_gate)
            {
                batch = Take();
                done = _completed && _pending.Length == 0;
            }
            if (batch.Length > 0)
            {
                Release(_roomReady);
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        var answer = await _client.AppendLogAsync(_lease, batch, ct);
                        Truncated |= answer.Truncated;
                        CancelRequested |= answer.Cancel;
                        break;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // A lost lease is final; a network hiccup is retried a few times before the log gives up.
                        if (e is LeaseLostException || attempt >= MaxSendAttempts)
                        {
                            Failure = e;
                            lock (_gate) _pending.SetLength(0);
                            Release(_roomReady);
                            return;
                        }
                        await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), ct);
                    }
                }
                continue;
            }
            if (done) return;
            await _dataReady.WaitAsync(ct);
        }
    }

    private byte[] Take()
    {
        if (_pending.Length == 0) return [];
        var all = _pending.GetBuffer();
        var length = (int)_pending.Length;
        var take = Math.Min(length, _batchBytes);
        var batch = all.AsSpan(0, take).ToArray();
        var rest = all.AsSpan(take, length - take).ToArray();
        _pending.SetLength(0);
        _pending.Write(rest);
        return batch;
    }

    private static void Release(SemaphoreSlim s)
    {
        try { if (s.CurrentCount == 0) s.Release(); }
        catch (SemaphoreFullException) { }
    }
}
