using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// The environment's load balancers seen as one: every state change goes to each of them (redundant HAProxy pairs keep
/// the same backends), and a server counts as back only when every one of them reports it UP. Each balancer is an
/// <see cref="ILoadBalancer"/> of its spec's kind: <see cref="HaproxyRuntime"/> or <see cref="ScriptBalancer"/>.
/// </summary>
public sealed class BalancerSet(IReadOnlyList<BalancerSpec> balancers)
{
    private readonly IReadOnlyList<(BalancerSpec Spec, ILoadBalancer Balancer)> _all = balancers.Select(b => (b, Create(b))).ToList();

    public bool Any => _all.Count > 0;

    public int MinHealthy => balancers.Select(b => b.MinHealthy).DefaultIfEmpty(1).Max();

    public TimeSpan DrainTimeout => TimeSpan.FromSeconds(balancers.Select(b => b.DrainTimeoutSeconds).DefaultIfEmpty(30).Max());

    /// <summary>The slowest balancer sets the pace of the waits.</summary>
    private TimeSpan PollInterval => _all.Select(b => b.Balancer.PollInterval).DefaultIfEmpty(TimeSpan.FromMilliseconds(100)).Max();

    /// <summary>Why this agent cannot drive <paramref name="spec"/> (an unknown kind, a script balancer without its commands); null when it can.</summary>
    public static string? Check(BalancerSpec spec) => (spec.Kind ?? BalancerSpec.Haproxy) switch
    {
        BalancerSpec.Haproxy => string.IsNullOrEmpty(spec.Address) ? $"load balancer '{spec.Name}' has no runtime API address" : null,
        BalancerSpec.Script => new[] { spec.DrainCommand, spec.EnableCommand, spec.StatusCommand }.Any(string.IsNullOrWhiteSpace)
            ? $"load balancer '{spec.Name}' is a script balancer without its drain, enable and status commands" : null,
        var other => $"load balancer '{spec.Name}' is of kind '{other}', which this agent does not know (upgrade the deploy agent)",
    };

    private static ILoadBalancer Create(BalancerSpec spec) => Check(spec) is { } problem
        ? new Unusable(problem)
        : (spec.Kind ?? BalancerSpec.Haproxy) == BalancerSpec.Script
            ? new ScriptBalancer(spec.Name, spec.DrainCommand!, spec.EnableCommand!, spec.StatusCommand!)
            : new HaproxyRuntime(spec.Address);

    /// <summary>A spec this agent cannot drive: every use fails as a balancer error (the rollout's preflight refuses it first).</summary>
    private sealed class Unusable(string problem) : ILoadBalancer
    {
        public Task SetStateAsync(string backend, string server, string state, CancellationToken ct) => throw new LoadBalancerException(problem);
        public Task<IReadOnlyList<HaproxyServerStat>> ShowBackendAsync(string backend, CancellationToken ct) => throw new LoadBalancerException(problem);
        public TimeSpan PollInterval => TimeSpan.FromMilliseconds(100);
    }

    public async Task SetStateAsync(string backend, string server, string state, CancellationToken ct)
    {
        foreach (var (spec, balancer) in _all)
        {
            try { await balancer.SetStateAsync(backend, server, state, ct); }
            catch (LoadBalancerException e) { throw Named(spec, e); }
        }
    }

    /// <summary>Every balancer's view of <paramref name="backend"/>'s servers.</summary>
    public async Task<IReadOnlyList<(string Balancer, IReadOnlyList<HaproxyServerStat> Servers)>> BackendAsync(string backend, CancellationToken ct)
    {
        var result = new List<(string, IReadOnlyList<HaproxyServerStat>)>();
        foreach (var (spec, balancer) in _all)
        {
            IReadOnlyList<HaproxyServerStat> stats;
            try { stats = await balancer.ShowBackendAsync(backend, ct); }
            catch (LoadBalancerException e) { throw Named(spec, e); }
            result.Add((spec.Name, stats));
        }
        return result;
    }

    /// <summary>The same error, prefixed with the balancer's name (and of the same type, so callers can still tell HAProxy's apart).</summary>
    private static LoadBalancerException Named(BalancerSpec spec, LoadBalancerException e) => e switch
    {
        HaproxyRuntimeException => new HaproxyRuntimeException($"load balancer '{spec.Name}': {e.Message}"),
        ScriptBalancerException => new ScriptBalancerException($"load balancer '{spec.Name}': {e.Message}"),
        _ => new LoadBalancerException($"load balancer '{spec.Name}': {e.Message}"),
    };

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
            await Task.Delay(PollInterval, ct);
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
            await Task.Delay(PollInterval, ct);
        }
    }
}
