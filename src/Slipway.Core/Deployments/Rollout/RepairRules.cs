namespace Slipway.Core.Deployments.Rollout;

/// <summary>
/// <c>slipway deployment repair N</c>: after a person has looked, put back in rotation the targets deployment N left out
/// of it (a failed target stays in maintenance by design; a lost agent can leave one drained). Pure: which targets, or
/// why not. A repair never deploys anything; it only sets those servers back to ready and waits until they are UP.
/// </summary>
public static class RepairRules
{
    /// <summary>What deployment N recorded for one target: its state and the load-balancer state Slipway last set (null: never touched).</summary>
    public sealed record TargetRecord(string Target, string State, string? BalancerState);

    /// <summary>The targets to put back (those left in drain or maint), or why the repair is refused.</summary>
    public static (IReadOnlyList<string> Targets, string? Refusal) Plan(long number, DeploymentState state, IReadOnlyList<TargetRecord> results,
        long? laterDeployment, bool environmentBusy)
    {
        if (!state.IsFinal())
            return ([], $"deployment #{number} is {state.Name().Replace('_', ' ')}: a repair follows a deployment that has ended (cancel it, or let it end)");
        if (results.Count == 0)
            return ([], $"deployment #{number} is not a rolling deployment: it has no targets to repair");
        if (laterDeployment is { } later)
            return ([], $"deployment #{later} of the same environment started after #{number}, so #{number}'s load-balancer states are no longer " +
                        $"the current ones; repair #{later} if it left servers out of rotation");
        if (environmentBusy)
            return ([], "the environment has a deployment or a repair running; try again when it has ended");
        // What was recorded as left out, and, after a lost agent (unknown), every target it was working on: its last report
        // may be older than what it did. The repair reads each balancer's live state first and leaves those in rotation alone.
        var outOfRotation = results.Where(r => r.BalancerState is "drain" or "maint" || (state == DeploymentState.Unknown && r.State == "unknown"))
            .Select(r => r.Target).ToList();
        if (outOfRotation.Count == 0)
            return ([], $"nothing to repair: deployment #{number} left no target out of rotation");
        return (outOfRotation, null);
    }
}
