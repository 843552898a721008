namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// One load balancer as a rollout uses it: set a server's state, read a backend's servers. Implementations are stateless
/// and safe to call from the targets of a batch at the same time. <see cref="BalancerSet"/> holds one per balancer of
/// the environment.
/// </summary>
public interface ILoadBalancer
{
    /// <summary>
    /// Puts <paramref name="backend"/>/<paramref name="server"/> in <paramref name="state"/>: <c>drain</c> (no new sessions),
    /// <c>maint</c> (out of rotation) or <c>ready</c> (back in rotation, once healthy).
    /// </summary>
    /// <exception cref="LoadBalancerException">The balancer refused the change or could not be reached.</exception>
    /// <exception cref="ArgumentException">A name outside the name alphabet, or another state.</exception>
    Task SetStateAsync(string backend, string server, string state, CancellationToken ct);

    /// <summary>The servers of <paramref name="backend"/> with their status (HAProxy's words: UP..., DOWN, MAINT, DRAIN, "no check") and current sessions.</summary>
    /// <exception cref="LoadBalancerException">The balancer could not be read, or its answer is not understood.</exception>
    Task<IReadOnlyList<HaproxyServerStat>> ShowBackendAsync(string backend, CancellationToken ct);

    /// <summary>How often a wait (for a drain, for UP) asks this balancer again.</summary>
    TimeSpan PollInterval { get; }
}

/// <summary>A load balancer could not be used: refused, timed out, failed, or an answer not understood. The target fails with its message.</summary>
public class LoadBalancerException : Exception
{
    public LoadBalancerException(string message) : base(message) { }
    public LoadBalancerException(string message, Exception inner) : base(message, inner) { }
}
