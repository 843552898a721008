namespace Slipway.Core.Deployments.Rollout;

/// <summary>
/// <c>on_failure: pause</c>, Octopus's guided failure done right: a failed target waits (state <c>paused</c>) and a deployer
/// decides for that target only — retry (its whole procedure again, from a fresh connection), skip (it stays out of
/// rotation and the rollout goes on without counting it as failed) or abort (the rollout stops after the batch). A
/// decision is an explicit transition: it is accepted only for a target of a running deployment that waits for one and
/// has none pending, and it is never carried over to another target.
/// </summary>
public static class TargetDecisions
{
    public const string Retry = "retry";
    public const string Skip = "skip";
    public const string Abort = "abort";
    public static readonly IReadOnlyList<string> All = [Retry, Skip, Abort];

    /// <summary>The target state of a target waiting for a decision, and of one a deployer skipped.</summary>
    public const string PausedState = "paused";
    public const string SkippedState = "skipped";

    /// <summary>Null when <paramref name="decision"/> may be taken now; else why not.</summary>
    /// <exception cref="ArgumentException">Not one of retry, skip, abort.</exception>
    public static string? Refusal(long number, DeploymentState deployment, string target, string? targetState, string? pending, string? pendingBy, string decision)
    {
        if (!All.Contains(decision)) throw new ArgumentException($"'{decision}' is not a decision: retry, skip or abort");
        if (targetState is null) return $"deployment #{number} has no target '{target}'";
        if (deployment != DeploymentState.Running)
            return $"deployment #{number} is {deployment.Name().Replace('_', ' ')}: only a running deployment waits for decisions";
        if (targetState != PausedState) return $"target {target} is not waiting for a decision (it is {targetState})";
        if (pending is not null) return $"target {target} already has a decision ({pending} by {pendingBy}) that the deploy agent has not taken up yet";
        return null;
    }
}
