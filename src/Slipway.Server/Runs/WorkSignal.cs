using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Slipway.Server.Runs;

/// <summary>
/// Wakes waiting long-polls at once when something they wait for happens (a job queued in a pool, a job
/// asked to cancel, a log appended). Only an accelerator: every waiter also wakes on its own timeout and
/// re-reads the database, so a missed signal costs latency, never correctness.
/// With several server nodes on PostgreSQL a signal also goes to the other nodes (<see cref="NodeNotifications"/>,
/// LISTEN/NOTIFY): an agent long-polling node B learns at once of a job queued through node A.
/// Thread-safe.
/// </summary>
public sealed class WorkSignal
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waits = new();
    private Channel<string>? _outgoing;

    /// <summary>A task that completes the next time <paramref name="key"/> is signalled.</summary>
    public Task WaitAsync(string key) =>
        _waits.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes the waiters of <paramref name="key"/> on this node and, when distributed, on every other node.</summary>
    public void Signal(string key)
    {
        SignalHere(key);
        _outgoing?.Writer.TryWrite(key);
    }

    /// <summary>Wakes the waiters of <paramref name="key"/> on this node only (a signal that came from another node).</summary>
    public void SignalHere(string key)
    {
        if (_waits.TryRemove(key, out var tcs)) tcs.TrySetResult();
    }

    /// <summary>Wakes every waiter on this node: after signals may have been missed (a lost database connection), all re-read.</summary>
    public void SignalAllHere()
    {
        foreach (var key in _waits.Keys) SignalHere(key);
    }

    /// <summary>
    /// From now on signals are also queued for the other nodes; the returned reader is drained by the one publisher.
    /// Bounded: when the publisher falls behind the oldest are dropped (waiters re-read on their timeouts anyway).
    /// </summary>
    public ChannelReader<string> Distribute()
    {
        _outgoing ??= Channel.CreateBounded<string>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        return _outgoing.Reader;
    }

    public static string Pool(string pool) => "pool:" + pool;
    public static string Job(long jobId) => "job:" + jobId;
    public static string Log(long jobId) => "log:" + jobId;
    /// <summary>Something a deployment waits for happened (requested, approved, a job ended): the conductor looks at once.</summary>
    public const string Deployments = "deployments";
}
