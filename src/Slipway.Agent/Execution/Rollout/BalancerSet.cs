using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// The environment's load balancers seen as one: every state change goes to each of them (redundant HAProxy pairs keep
/// the same backends), and a server counts as back only when every one of them reports it UP.
/// </summary>
public sealed class BalancerSet(IReadOnlyList<BalancerSpec> balancers)
{
    private readonly IReadOnlyList<(BalancerSpec Spec, HaproxyRuntime Runtime)> _all = balancers.Select(b => (b, new HaproxyRuntime(b.Address))).ToList();

    public bool Any => _all.Count > 0;

    public int MinHealthy => balancers.Select(b => b.MinHealthy).DefaultIfEmpty(1).Max();

    public TimeSpan DrainTimeout => TimeSpan.FromSeconds(balancers.Select(b => b.DrainTimeoutSeconds).DefaultIfEmpty(30).Max());

    public async Task SetStateAsync(string backend, string server, string state, CancellationToken ct)
    {
        foreach (var (spec, runtime) in _all)
        {
            try { await runtime.SetStateAsync(backend, server, state, ct); }
            catch (HaproxyRuntimeException e) { throw new HaproxyRuntimeException($"load balancer '{spec.Name}': {e.Message}"); }
        }
    }

    /// <summary>Every balancer's view of <paramref name="backend"/>'s servers.</summary>
    public async Task<IReadOnlyList<(string Balancer, IReadOnlyList<HaproxyServerStat> Servers)>> BackendAsync(string backend, CancellationToken ct)
    {
        var result = new List<(string, IReadOnlyList<HaproxyServerStat>)>();
        foreach (var (spec, runtime) in _all)
        {
            IReadOnlyList<HaproxyServerStat> stats;
            try { stats = await runtime.ShowStatAsync(ct); }
            catch (HaproxyRuntimeException e) { throw new HaproxyRuntimeException($"load balancer '{spec.Name}': {e.Message}"); }
            result.Add((spec.Name, stats.Where(s => s.Backend == backend).ToList()));
        }
        return result;
    }

    /// <summary>A server in rotation: UP (also while going down, "UP 1/3") or up without health checks ("no check").</summary>
    public static bool InRotation(HaproxyServerStat s) => s.Status.StartsWith("UP", StringComparison.Ordinal) || s.Status == "no check";

    /// <summary>Waits until the server has no current session on any balancer, or the drain timeout; true when it drained.</summary>
    public async Task<bool> WaitDrainedAsync(string backend, string server, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + DrainTimeout;
        while (true)
        {
            var views = await BackendAsync(backend, ct);
            if (views.All(v => v.Servers.FirstOrDefault(s => s.Server == server) is not { CurrentSessions: > 0 })) return true;
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Waits until every balancer reports the server in rotation; null when it is, else its last status.</summary>
    public async Task<string?> WaitUpAsync(string backend, string server, TimeSpan within, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var views = await BackendAsync(backend, ct);
            var statuses = views.Select(v => (v.Balancer, Stat: v.Servers.FirstOrDefault(s => s.Server == server))).ToList();
            var missing = statuses.FirstOrDefault(s => s.Stat is null);
            if (missing.Balancer is not null) return $"load balancer '{missing.Balancer}' has no server {backend}/{server}";
            if (statuses.All(s => InRotation(s.Stat!))) return null;
            if (DateTime.UtcNow >= deadline)
                return string.Join(", ", statuses.Where(s => !InRotation(s.Stat!)).Select(s => $"'{s.Balancer}' reports {s.Stat!.Status}"));
            await Task.Delay(100, ct);
        }
    }
}
