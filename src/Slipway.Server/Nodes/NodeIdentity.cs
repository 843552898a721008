using System.Reflection;
using Slipway.Core.Nodes;

namespace Slipway.Server.Nodes;

/// <summary>
/// This server node: its name (<see cref="ServerOptions.NodeName"/>), the version it runs and whether it drains. The
/// drain flag's truth is the database (server_nodes.draining, set through any node); this copy is refreshed by every
/// heartbeat (<see cref="NodeRegistry"/>) and at once when the drain request reaches this node itself. Thread-safe.
/// </summary>
public sealed class NodeIdentity
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = NewSignal();
    private volatile bool _draining;
    private long _drainingSince; // Environment.TickCount64 when the flag last turned on

    public NodeIdentity(ServerOptions options)
    {
        Name = NodeNames.Check(options.NodeName);
    }

    public string Name { get; }

    /// <summary>When this process started as the node, on the database's clock (server_nodes.started_at; 0 before it did): a later
    /// start under the same name writes another, so a node can tell that another process took its name.</summary>
    public long StartedAt { get; set; }

    /// <summary>The server's build (informational version: version and commit), shown per node so a rolling upgrade can be followed.</summary>
    public static string Version { get; } =
        typeof(NodeIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>True while this node drains: it holds no duty, hands out no job and answers /healthz 503.</summary>
    public bool Draining => _draining;

    /// <summary>How long this node has known it drains (zero while it does not): what it counts at a heartbeat reads as
    /// "drained" only once the load balancer has had a heartbeat interval to see its /healthz answer 503.</summary>
    public TimeSpan DrainingFor => _draining ? TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _drainingSince)) : TimeSpan.Zero;

    /// <summary>Sets the flag; a change wakes <see cref="Changed"/> so duty leases are given up (or taken) at once.</summary>
    public void SetDraining(bool draining)
    {
        TaskCompletionSource? fire = null;
        lock (_lock)
        {
            if (_draining == draining) return;
            if (draining) Interlocked.Exchange(ref _drainingSince, Environment.TickCount64);
            _draining = draining;
            fire = _changed;
            _changed = NewSignal();
        }
        fire.TrySetResult();
    }

    /// <summary>Completes at the next change of the drain flag.</summary>
    public Task Changed()
    {
        lock (_lock) return _changed.Task;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
