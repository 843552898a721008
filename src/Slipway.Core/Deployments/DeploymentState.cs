namespace Slipway.Core.Deployments;

/// <summary>
/// Where a deployment is. <see cref="AwaitingApproval"/> holds no lock; <see cref="Queued"/> waits for the
/// environment's lock; <see cref="Running"/> holds it. Final: succeeded, failed, cancelled, rejected (an approver
/// said no), superseded (a newer deployment won under newest-wins), unknown (its agent was lost mid-deployment:
/// what reached the servers is not known, and nothing re-runs it on another host without a human).
/// </summary>
public enum DeploymentState { AwaitingApproval, Queued, Running, Succeeded, Failed, Cancelled, Rejected, Superseded, Unknown }

/// <summary>Thrown when a deployment is asked to move in a way its state does not allow. Answered with 409.</summary>
public sealed class DeploymentTransitionException(string message) : InvalidOperationException(message);

/// <summary>The allowed state changes of a deployment; every change in the server goes through <see cref="Ensure"/>.</summary>
public static class DeploymentTransitions
{
    private static readonly Dictionary<DeploymentState, DeploymentState[]> Allowed = new()
    {
        [DeploymentState.AwaitingApproval] = [DeploymentState.Queued, DeploymentState.Rejected, DeploymentState.Cancelled],
        [DeploymentState.Queued] = [DeploymentState.Running, DeploymentState.Cancelled, DeploymentState.Superseded],
        [DeploymentState.Running] = [DeploymentState.Succeeded, DeploymentState.Failed, DeploymentState.Cancelled, DeploymentState.Unknown],
    };

    public static bool IsFinal(this DeploymentState state) => !Allowed.ContainsKey(state);

    public static bool Can(DeploymentState from, DeploymentState to) => Allowed.TryGetValue(from, out var next) && next.Contains(to);

    public static void Ensure(string subject, DeploymentState from, DeploymentState to)
    {
        if (Can(from, to)) return;
        var why = from.IsFinal() ? $"it has already finished ({from.Name()})" : $"a deployment {from.Name().Replace('_', ' ')} cannot become {to.Name().Replace('_', ' ')}";
        throw new DeploymentTransitionException($"cannot move {subject} from {from.Name()} to {to.Name()}: {why}");
    }

    /// <summary>
    /// An approver's decision (<paramref name="verb"/>: approve, reject) is for a deployment awaiting approval only; the
    /// refusal says, in words, what the deployment is instead and what to do (a rejection is final: ask again).
    /// </summary>
    public static void EnsureAwaitingDecision(string subject, DeploymentState state, string verb)
    {
        if (state == DeploymentState.AwaitingApproval) return;
        var why = state switch
        {
            DeploymentState.Rejected => "it was rejected, and a rejection is final: to ship that release there, ask for a new deployment",
            DeploymentState.Cancelled => "it was cancelled: to ship that release there, ask for a new deployment",
            DeploymentState.Queued or DeploymentState.Running => $"it is {state.Name()} already, approved or not needing approval",
            _ => $"it has already finished ({state.Name()})",
        };
        throw new DeploymentTransitionException($"cannot {verb} {subject}: {why}");
    }

    /// <summary>The wire name: <c>awaiting_approval</c>, <c>queued</c>, <c>running</c>, <c>succeeded</c>, ...</summary>
    public static string Name(this DeploymentState state) => state switch
    {
        DeploymentState.AwaitingApproval => "awaiting_approval",
        _ => state.ToString().ToLowerInvariant(),
    };

    public static DeploymentState Parse(string name) =>
        Enum.GetValues<DeploymentState>().Cast<DeploymentState?>().FirstOrDefault(s => s!.Value.Name() == name)
        ?? throw new InvalidDataException($"unknown deployment state '{name}'");
}
