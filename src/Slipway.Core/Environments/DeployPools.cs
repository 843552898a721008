using Slipway.Core.Pipelines;
using Slipway.Core.Runs;

namespace Slipway.Core.Environments;

/// <summary>
/// The talk's "separate, dedicated agents for deployment": a pool that an environment deploys from is reserved for
/// deployment jobs, so code on a branch (a build job naming that pool) never runs on the agents that can reach
/// production. The default build pool is the exception: an environment on it (fine for dev or staging, as in the
/// demo) shares its agents with builds. Pure; the server applies it when a run is planned and when an agent claims a job.
/// </summary>
public static class DeployPools
{
    /// <summary>Whether <paramref name="pool"/>, used by an environment, is reserved for deployments.</summary>
    public static bool IsReservable(string pool) => pool != JobDefinition.DefaultPool;

    /// <summary>One error per job of a build run that names a reserved pool (empty: the plan may run).</summary>
    public static IReadOnlyList<string> Violations(RunPlan plan, IReadOnlySet<string> reservedPools) =>
        plan.Stages.SelectMany(s => s.Jobs)
            .Where(j => reservedPools.Contains(j.Pool))
            .Select(j => $"job '{j.Name}': pool '{j.Pool}' is reserved for deployments (an environment deploys from it); build jobs may not run there")
            .ToList();
}
