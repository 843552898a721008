using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Nodes;

namespace Slipway.Server.Nodes;

/// <summary>
/// The nodes as operators see them (<see cref="NodesApi"/>, <see cref="NodePages"/>) and the transitions they ask for:
/// drain (take no new duties or jobs, answer /healthz 503, before an upgrade), undrain, and remove a retired node. Each checks the current state
/// (an unknown node is 404, draining a draining node or undraining one that is not draining is 409) and is audited,
/// refusals too. The node drained acts on it at its next heartbeat, at once if the request reached that node itself.
/// </summary>
public sealed class NodeService(NodeStore store, NodeIdentity self, ServerOptions options)
{
    public async Task<IReadOnlyList<NodeDto>> ListAsync()
    {
        var (nodes, leases, now) = await store.ListAsync();
        return nodes.Select(n => ToDto(n, leases, now)).ToList();
    }

    private NodeDto ToDto(ServerNodeRow n, IReadOnlyList<DutyLease> leases, long now)
    {
        var alive = NodeNames.IsAlive(n.HeartbeatAt, n.StoppedAt, now, options.NodeHeartbeatInterval);
        var duties = leases.Where(l => l.Holder == n.Name && l.ExpiresAt > now).Select(l => new NodeDutyDto(l.Duty, l.FencingToken, UnixMs.To(l.ExpiresAt))).ToList();
        // Every node's counts as its last heartbeat wrote them, this node's too: one rule for all, at most a heartbeat old.
        var (open, jobs, counted) = ((int?)n.OpenRequests, (int?)n.EmbeddedJobs, n.CountedDraining != 0);
        var state = NodeStates.Of(n.StoppedAt is not null, alive, n.Draining != 0, counted, duties.Count, open, jobs);
        return new NodeDto(n.Name, n.Version, UnixMs.To(n.StartedAt), UnixMs.To(n.HeartbeatAt), n.Draining != 0, UnixMs.To(n.StoppedAt),
            alive, n.Name == self.Name, duties, open, jobs, state, NodeStates.WaitingFor(state, counted, duties.Count, open, jobs));
    }

    /// <summary>
    /// Removes a retired node from the list: one that stopped or is lost. An alive node is refused (409: stop it first; its
    /// next heartbeat would list it again), as is an unknown one (404). Audited, refusals too. A removed node that starts
    /// again simply appears again.
    /// </summary>
    public async Task RemoveAsync(Actor actor, string name)
    {
        const string action = Actions.NodeDrain; // drain, undrain and remove alike, as agent.approve covers removing an agent
        var removal = NodeNames.IsValid(name) ? await store.RemoveAsync(name, options.NodeHeartbeatInterval) : null;
        if (removal is null)
        {
            await actor.AuditAsync(action, AuditOutcomes.Failed, $"node:{name}", "not removed: no such node");
            throw new KeyNotFoundException($"no server node named '{name}'");
        }
        if (!removal.Removed)
        {
            var ago = Math.Max(0, removal.Now - removal.Node.HeartbeatAt) / 1000.0;
            var refusal = $"node {name} is alive (last heartbeat {ago:0.#} s ago): stop it first; a node can be removed once it " +
                          "has stopped or is lost (no heartbeat for three intervals)";
            await actor.AuditAsync(action, AuditOutcomes.Failed, $"node:{name}", "not removed: " + refusal);
            throw new ConflictException(refusal);
        }
        var was = removal.Node.StoppedAt is not null ? "stopped" : "lost";
        await actor.AuditAsync(action, AuditOutcomes.Succeeded, $"node:{name}", $"node removed from the list ({was}, version {removal.Node.Version})");
    }

    public async Task<NodeDto> SetDrainingAsync(Actor actor, string name, bool draining)
    {
        const string action = Actions.NodeDrain; // drain and undrain alike, as agent.approve covers approve and disable
        var changed = NodeNames.IsValid(name) ? await store.SetDrainingAsync(name, draining) : null;
        if (changed is null)
        {
            await actor.AuditAsync(action, AuditOutcomes.Failed, $"node:{name}", "no such node");
            throw new KeyNotFoundException($"no server node named '{name}'");
        }
        if (changed == false)
        {
            var refusal = draining ? $"node {name} is already draining" : $"node {name} is not draining";
            await actor.AuditAsync(action, AuditOutcomes.Failed, $"node:{name}", refusal);
            throw new ConflictException(refusal);
        }
        if (name == self.Name) self.SetDraining(draining); // else the node sees it at its next heartbeat
        await actor.AuditAsync(action, AuditOutcomes.Succeeded, $"node:{name}",
            draining ? "node drains: it gives up its duties and takes no new jobs; /healthz answers 503" : "node no longer drains");
        return (await ListAsync()).Single(n => n.Name == name);
    }
}
