namespace Slipway.Core.Runs;

/// <summary>Thrown when a state change is asked of something in a state that does not allow it.</summary>
public sealed class InvalidTransitionException(string subject, ExecutionStatus from, ExecutionStatus to, string why)
    : InvalidOperationException($"cannot move {subject} from {from.ToWire()} to {to.ToWire()}: {why}")
{
    public ExecutionStatus From { get; } = from;
    public ExecutionStatus To { get; } = to;
}

/// <summary>
/// The allowed state changes of jobs and runs. Every state change in the server goes through
/// <see cref="EnsureJob"/> or <see cref="EnsureRun"/>, so an invalid one fails loudly instead of
/// silently doing nothing.
/// </summary>
public static class Transitions
{
    private static readonly Dictionary<ExecutionStatus, ExecutionStatus[]> JobMoves = new()
    {
        [ExecutionStatus.Pending] = [ExecutionStatus.Queued, ExecutionStatus.Skipped, ExecutionStatus.Cancelled],
        // Queued -> Failed: the job could not be handed out (e.g. its run was resolved at restart).
        [ExecutionStatus.Queued] = [ExecutionStatus.Running, ExecutionStatus.Cancelled, ExecutionStatus.Failed],
        // Running -> Queued: the lease was lost or the job failed with retries left.
        [ExecutionStatus.Running] = [ExecutionStatus.Succeeded, ExecutionStatus.Failed, ExecutionStatus.Cancelled, ExecutionStatus.Queued],
        // Manual retry re-queues failed and cancelled jobs (and those skipped because of them).
        [ExecutionStatus.Failed] = [ExecutionStatus.Queued],
        [ExecutionStatus.Cancelled] = [ExecutionStatus.Queued],
        [ExecutionStatus.Skipped] = [ExecutionStatus.Pending],
        [ExecutionStatus.Succeeded] = [],
    };

    private static readonly Dictionary<ExecutionStatus, ExecutionStatus[]> RunMoves = new()
    {
        [ExecutionStatus.Queued] = [ExecutionStatus.Running, ExecutionStatus.Succeeded, ExecutionStatus.Failed, ExecutionStatus.Cancelled],
        [ExecutionStatus.Running] = [ExecutionStatus.Succeeded, ExecutionStatus.Failed, ExecutionStatus.Cancelled, ExecutionStatus.Queued],
        [ExecutionStatus.Failed] = [ExecutionStatus.Queued],
        [ExecutionStatus.Cancelled] = [ExecutionStatus.Queued],
        [ExecutionStatus.Succeeded] = [],
    };

    public static bool JobCan(ExecutionStatus from, ExecutionStatus to) => JobMoves.TryGetValue(from, out var to_) && to_.Contains(to);
    public static bool RunCan(ExecutionStatus from, ExecutionStatus to) => RunMoves.TryGetValue(from, out var to_) && to_.Contains(to);

    public static void EnsureJob(string job, ExecutionStatus from, ExecutionStatus to)
    {
        if (!JobCan(from, to))
            throw new InvalidTransitionException($"job '{job}'", from, to, Why(from));
    }

    public static void EnsureRun(long runId, ExecutionStatus from, ExecutionStatus to)
    {
        if (!RunCan(from, to))
            throw new InvalidTransitionException($"run {runId}", from, to, Why(from));
    }

    private static string Why(ExecutionStatus from) => from.IsFinal()
        ? $"it has already finished ({from.ToWire()})"
        : $"that is not a valid step from {from.ToWire()}";
}
