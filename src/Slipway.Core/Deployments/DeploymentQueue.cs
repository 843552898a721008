using Slipway.Core.Environments;

namespace Slipway.Core.Deployments;

/// <summary>A deployment waiting for its environment's lock: its id and when it was queued (unix ms).</summary>
public sealed record QueuedDeployment(long Id, long QueuedAt);

/// <summary>
/// Which queued deployment takes a free environment next. oldest-first: the one queued first. newest-wins: the one
/// queued last; every older queued one is superseded (skipped, and marked so). Only called when no deployment holds
/// the environment: one at a time per project and environment. Pure.
/// </summary>
public static class DeploymentQueue
{
    public static (QueuedDeployment? Next, IReadOnlyList<QueuedDeployment> Superseded) Next(IReadOnlyList<QueuedDeployment> queued, QueuePolicy policy)
    {
        if (queued.Count == 0) return (null, []);
        var ordered = queued.OrderBy(q => q.QueuedAt).ThenBy(q => q.Id).ToList();
        return policy == QueuePolicy.NewestWins
            ? (ordered[^1], ordered[..^1])
            : (ordered[0], []);
    }
}
