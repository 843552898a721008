using Microsoft.Extensions.Logging;

namespace Slipway.Server.Nodes;

/// <summary>
/// This node's row in server_nodes: written at start (a node starting again is no longer draining, and leases left under
/// its name by a crash are released), a heartbeat every <see cref="ServerOptions.NodeHeartbeatInterval"/> that also
/// brings the drain flag set through any node to this one and writes the requests the node has open (what a draining
/// node still has in hand), and marked stopped on a graceful shutdown (registered before
/// the other workers, it stops after them). A killed node is seen as dead by its heartbeat's age.
/// </summary>
public sealed class NodeRegistry(NodeStore store, NodeIdentity node, NodeNameClaim claim, OpenRequests openRequests, ServerOptions options,
    TimeProvider clock, ILogger<NodeRegistry> log)
    : PeriodicWorker(log, clock)
{
    protected override TimeSpan Interval => options.NodeHeartbeatInterval;
    protected override bool PassAtStart => false; // StartAsync wrote the first heartbeat
    protected override string Name => "node heartbeat";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        node.StartedAt = await store.StartAsync(node.Name, NodeIdentity.Version);
        node.SetDraining(false);
        log.LogInformation("server node {Node} ({Version}) started", node.Name, NodeIdentity.Version);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task PassAsync(CancellationToken ct)
    {
        await claim.KeepAsync(ct);
        // Counted "while draining" only once the node has drained for a heartbeat interval: by then the balancer has seen
        // /healthz answer 503 (docs: mark a node down within that time), so what it still sent is in the count.
        var load = new NodeLoad(openRequests.Count, options.EmbeddedAgent ? Recovery.EmbeddedAgentName(options) : null,
            CountedDraining: node.Draining && node.DrainingFor >= options.NodeHeartbeatInterval);
        var beat = await store.HeartbeatAsync(node.Name, NodeIdentity.Version, node.StartedAt, node.Draining, load);
        if (beat.Taken)
        {
            claim.GiveWay(beat.StartedAt);
            return;
        }
        node.StartedAt = beat.StartedAt; // changed only when the row had been deleted and was made again
        var draining = beat.Draining;
        if (draining != node.Draining)
            log.LogInformation("server node {Node} {State}", node.Name, draining ? "drains: no new duties or jobs" : "no longer drains");
        node.SetDraining(draining);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try { await store.StopAsync(node.Name, node.StartedAt); }
        catch (Exception e) { log.LogWarning(e, "server node {Node} could not record its stop; its heartbeat's age will show it", node.Name); }
    }
}
