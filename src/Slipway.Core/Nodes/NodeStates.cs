namespace Slipway.Core.Nodes;

/// <summary>
/// A server node's state as operators see it (node list, nodes page), from its row and leases:
/// <list type="bullet">
/// <item><c>stopped</c>: it shut down gracefully;</item>
/// <item><c>lost</c>: no heartbeat for three intervals (killed, cut off): its duties pass to another node when their leases expire;</item>
/// <item><c>drained</c>: it drains, holds no duty, and its last heartbeat, counted once it had drained for a heartbeat
/// interval (so after its health check had turned the balancer away), found no open request and no job on its embedded
/// agent: stopping it now interrupts nothing;</item>
/// <item><c>draining</c>: asked to drain, not yet drained (also a node of an earlier version, which reports no counts);</item>
/// <item><c>alive</c>: taking duties and jobs.</item>
/// </list>
/// </summary>
public static class NodeStates
{
    public const string Stopped = "stopped";
    public const string Lost = "lost";
    public const string Drained = "drained";
    public const string Draining = "draining";
    public const string Alive = "alive";

    /// <param name="countedDraining">The counts were taken once the node had drained for a heartbeat interval.</param>
    /// <param name="openRequests">Requests in hand at the last heartbeat; null when the node does not report them (earlier version).</param>
    /// <param name="embeddedJobs">Jobs its embedded agent was running then; null when not reported.</param>
    public static string Of(bool stopped, bool alive, bool draining, bool countedDraining, int dutiesHeld, int? openRequests, int? embeddedJobs) =>
        stopped ? Stopped
        : !alive ? Lost
        : !draining ? Alive
        : countedDraining && dutiesHeld == 0 && openRequests == 0 && embeddedJobs is null or 0 ? Drained
        : Draining;

    /// <summary>What a draining node still waits for, in words (for <c>slipway node drain --wait</c>); empty when nothing.</summary>
    public static string WaitingFor(string state, bool countedDraining, int dutiesHeld, int? openRequests, int? embeddedJobs)
    {
        if (state != Draining) return "";
        if (dutiesHeld > 0) return $"it still holds {Count(dutiesHeld, "duty", "duties")}";
        if (openRequests is null) return "a count of its open requests, which a node of an earlier version does not report";
        if (!countedDraining) return "its next heartbeat";
        var work = new List<string>();
        if (openRequests > 0) work.Add(Count(openRequests.Value, "open request", "open requests"));
        if (embeddedJobs > 0) work.Add(Count(embeddedJobs.Value, "job", "jobs") + " on its embedded agent");
        return string.Join(" and ", work);
    }

    private static string Count(int n, string one, string many) => $"{n} {(n == 1 ? one : many)}";
}
