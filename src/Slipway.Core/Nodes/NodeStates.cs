namespace Slipway.Core.Nodes;

/// <summary>
/// A server node's state as operators see it (node list, nodes page), from its row and leases:
/// <list type="bullet">
/// <item><c>stopped</c>: it shut down gracefully;</item>
/// <item><c>lost</c>: no heartbeat for three intervals (killed, cut off): its duties pass to another node when their leases expire;</item>
/// <item><c>drained</c>: it was asked to drain, has beaten since (so it knows), holds no duty and had no open request at
/// that heartbeat: stopping it now interrupts nothing;</item>
/// <item><c>draining</c>: asked to drain, not yet drained;</item>
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

    /// <param name="drainRequestedAtMs">When the drain was asked for (database clock), null when the node is not draining.</param>
    /// <param name="heartbeatAtMs">The node's last heartbeat, which also wrote <paramref name="openRequests"/>.</param>
    public static string Of(bool stopped, bool alive, long? drainRequestedAtMs, long heartbeatAtMs, int dutiesHeld, int openRequests) =>
        stopped ? Stopped
        : !alive ? Lost
        : drainRequestedAtMs is not { } asked ? Alive
        : heartbeatAtMs > asked && dutiesHeld == 0 && openRequests == 0 ? Drained
        : Draining;

    /// <summary>What a drained node still waits for, in words (for <c>slipway node drain --wait</c>); empty when nothing.</summary>
    public static string WaitingFor(string state, int dutiesHeld, int openRequests) => state switch
    {
        Draining when dutiesHeld > 0 => $"it still holds {dutiesHeld} dut{(dutiesHeld == 1 ? "y" : "ies")}",
        Draining when openRequests > 0 => $"{openRequests} open request{(openRequests == 1 ? "" : "s")}",
        Draining => "its next heartbeat",
        _ => "",
    };
}
