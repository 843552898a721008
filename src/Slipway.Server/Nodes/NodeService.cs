using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Nodes;

namespace Slipway.Server.Nodes;

/// <summary>
/// The nodes as operators see them (<see cref="NodesApi"/>, <see cref="NodePages"/>) and the two transitions they ask for:
/// drain (take no new duties or jobs, answer /healthz 503, before an upgrade) and undrain. Each checks the current state
/// (an unknown node is 404, draining a draining node or undraining one that is not draining is 409) and is audited,
/// refusals too. The node drained acts on it at its next heartbeat, at once if the request reached that node itself.
/// </summary>
public sealed class NodeService(NodeStore store, NodeIdentity self, ServerOptions options)
{
    public async Task<IReadOnlyList<NodeDto>> ListAsync()
    {
        var (nodes, leases, now) = await store.ListAsync();
        return nodes.Select(n => new NodeDto(n.Name, n.Version, UnixMs.To(n.StartedAt), UnixMs.To(n.HeartbeatAt), n.Draining != 0, UnixMs.To(n.StoppedAt),
            NodeNames.IsAlive(n.HeartbeatAt, n.StoppedAt, now, options.NodeHeartbeatInterval), n.Name == self.Name,
            leases.Where(l => l.Holder == n.Name && l.ExpiresAt > now).Select(l => new NodeDutyDto(l.Duty, l.FencingToken, UnixMs.To(l.ExpiresAt))).ToList()))
            .ToList();
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
