using System.Collections.Concurrent;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Commits this process is pushing as merges but has not yet recorded as merged. A poll fetching between the
/// push and the record would otherwise see Slipway's own merge as a direct push to a protected branch.
/// </summary>
public static class MergesInFlight
{
    private static readonly ConcurrentDictionary<(long Project, string Commit), byte> Commits = new();

    public static IDisposable Begin(long projectId, string commit)
    {
        Commits[(projectId, commit)] = 0;
        return new End(() => Commits.TryRemove((projectId, commit), out _));
    }

    public static bool Contains(long projectId, string commit) => Commits.ContainsKey((projectId, commit));

    private sealed class End(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
