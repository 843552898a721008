using System.Collections.Concurrent;
using Slipway.Testing.Cluster;

namespace Slipway.Bench.Scale;

/// <summary>
/// Shared by the agents of one scenario: a gate that holds them before their next poll (so a batch can be queued
/// complete before anyone takes from it) and what they took and finished, with wall-clock milliseconds.
/// </summary>
public sealed class AgentCrew
{
    private volatile TaskCompletionSource _open = Opened();
    private long _finished;

    public ConcurrentDictionary<long, (long RunId, long ClaimedAtMs)> Claims { get; } = new();
    public long Finished => Interlocked.Read(ref _finished);
    public long LastFinishMs { get; private set; }

    public Task WaitOpenAsync(CancellationToken ct) => _open.Task.WaitAsync(ct);
    public void Close() { if (_open.Task.IsCompleted) _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); }
    public void Open() => _open.TrySetResult();

    public void NoteFinished()
    {
        Interlocked.Increment(ref _finished);
        LastFinishMs = NowMs();
    }

    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    /// <summary>One of the crew's agents: Slipway.Testing's SimulatedAgent behind this crew's gate, noting what it took and finished.</summary>
    public SimulatedAgent Agent(string serverUrl, string name, string pool) => new(serverUrl, name, pool)
    {
        BeforePoll = WaitOpenAsync,
        Leased = lease => Claims[lease.JobId] = (lease.RunId, NowMs()),
        Finished = _ => NoteFinished(),
    };
}
