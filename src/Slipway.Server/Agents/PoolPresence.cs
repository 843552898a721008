
namespace Slipway.Server.Agents;

/// <summary>
/// Which pools have an agent connected now, so that work waiting for a pool nobody serves says so ("waiting for an agent
/// of pool deploy (none connected)") instead of looking like it runs. An agent counts as connected when it is approved and
/// either runs a job or polled within the long-poll wait plus the lease timeout (a polling agent is seen at least once
/// per wait). Read from the database on demand: a status detail, never a state, so nothing moves because of it.
/// </summary>
public sealed class PoolPresence(AgentStore agents, ServerOptions options, TimeProvider clock)
{
    /// <summary>The number of connected agents per pool; pools without one are absent.</summary>
    public async Task<IReadOnlyDictionary<string, int>> ConnectedAsync()
    {
        var since = (clock.GetUtcNow() - options.AgentPollWait - options.LeaseTimeout).ToUnixTimeMilliseconds();
        return (await agents.ListAsync())
            .Where(a => a.Status == "approved" && (a.RunningJobs > 0 || a.LastSeenAt >= since))
            .GroupBy(a => a.Pool, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    /// <summary>Whether at least one agent of <paramref name="pool"/> is connected.</summary>
    public async Task<bool> HasAgentAsync(string pool) => (await ConnectedAsync()).ContainsKey(pool);

    /// <summary>Why the run's queued jobs wait, when a pool they need has no connected agent; null otherwise (or when nothing is queued).</summary>
    public async Task<string?> WaitingAsync(RunDetails run)
    {
        var pools = run.Jobs.Where(j => j.Status == "queued").Select(j => j.Pool).Distinct(StringComparer.Ordinal).ToList();
        return pools.Count == 0 ? null : Waiting(pools, await ConnectedAsync());
    }

    /// <summary>The detail for the first of <paramref name="queuedPools"/> without a connected agent, or null.</summary>
    public static string? Waiting(IEnumerable<string> queuedPools, IReadOnlyDictionary<string, int> connected) =>
        queuedPools.FirstOrDefault(p => !connected.ContainsKey(p)) is { } pool ? NoneConnected(pool) : null;

    public static string NoneConnected(string pool) => $"waiting for an agent of pool {pool} (none connected)";
}
