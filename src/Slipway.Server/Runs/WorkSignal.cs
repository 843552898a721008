using System.Collections.Concurrent;

namespace Slipway.Server.Runs;

/// <summary>
/// Wakes waiting long-polls at once when something they wait for happens (a job queued in a pool, a job
/// asked to cancel, a log appended). Only an accelerator: every waiter also wakes on its own timeout and
/// re-reads the database, so a missed signal (or a second server node) costs latency, never correctness.
/// Thread-safe.
/// </summary>
public sealed class WorkSignal
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waits = new();

    /// <summary>A task that completes the next time <paramref name="key"/> is signalled.</summary>
    public Task WaitAsync(string key) =>
        _waits.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Signal(string key)
    {
        if (_waits.TryRemove(key, out var tcs)) tcs.TrySetResult();
    }

    public static string Pool(string pool) => "pool:" + pool;
    public static string Job(long jobId) => "job:" + jobId;
    public static string Log(long jobId) => "log:" + jobId;
    /// <summary>Something a deployment waits for happened (requested, approved, a job ended): the conductor looks at once.</summary>
    public const string Deployments = "deployments";
}
