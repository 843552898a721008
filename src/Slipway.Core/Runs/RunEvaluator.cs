namespace Slipway.Core.Runs;

/// <summary>The facts the evaluator needs about one job of a run.</summary>
public sealed record JobState(long Id, int StageIndex, ExecutionStatus Status);

/// <summary>The facts about one stage; <c>Skipped</c> is fixed at planning by a <c>when</c> filter.</summary>
public sealed record StageState(int Index, ExecutionStatus Status, bool SkippedByFilter);

/// <summary>What must change after something happened to a run's jobs.</summary>
public sealed record RunDecision(
    ExecutionStatus RunStatus,
    IReadOnlyDictionary<int, ExecutionStatus> StageStatuses,
    IReadOnlyList<long> JobsToQueue,
    IReadOnlyList<long> JobsToSkip);

/// <summary>
/// Decides a run's progress from the states of its jobs. Pure and total: it is called after every
/// job change, and calling it twice on the same facts gives the same decision (idempotent).
/// Rules: stages run in order; a stage starts when every earlier stage succeeded or was skipped;
/// a failed job fails its stage once the stage's other jobs are done; a failed or cancelled stage
/// skips every later stage; the run's status follows.
/// </summary>
public static class RunEvaluator
{
    public static RunDecision Evaluate(IReadOnlyList<StageState> stages, IReadOnlyList<JobState> jobs)
    {
        var stageStatuses = new Dictionary<int, ExecutionStatus>();
        var toQueue = new List<long>();
        var toSkip = new List<long>();
        var blocked = false;        // an earlier stage failed or was cancelled
        var waiting = false;        // an earlier stage has not finished yet
        ExecutionStatus? stop = null;
        var anyStarted = false;

        foreach (var stage in stages.OrderBy(s => s.Index))
        {
            var stageJobs = jobs.Where(j => j.StageIndex == stage.Index).ToList();
            if (stage.SkippedByFilter || blocked)
            {
                stageStatuses[stage.Index] = ExecutionStatus.Skipped;
                toSkip.AddRange(stageJobs.Where(j => j.Status == ExecutionStatus.Pending).Select(j => j.Id));
                continue;
            }
            if (waiting)
            {
                stageStatuses[stage.Index] = ExecutionStatus.Pending;
                continue;
            }

            // This is the current stage: release its pending jobs.
            toQueue.AddRange(stageJobs.Where(j => j.Status == ExecutionStatus.Pending).Select(j => j.Id));
            var effective = stageJobs.Select(j => j.Status == ExecutionStatus.Pending ? ExecutionStatus.Queued : j.Status).ToList();
            var status = StageStatusOf(effective);
            stageStatuses[stage.Index] = status;
            if (effective.Any(s => s != ExecutionStatus.Queued)) anyStarted = true;

            switch (status)
            {
                case ExecutionStatus.Succeeded or ExecutionStatus.Skipped:
                    break;
                case ExecutionStatus.Failed or ExecutionStatus.Cancelled:
                    blocked = true;
                    stop ??= status;
                    break;
                default:
                    waiting = true;
                    break;
            }
        }

        ExecutionStatus runStatus;
        if (stop is { } final) runStatus = final;
        else if (waiting) runStatus = anyStarted ? ExecutionStatus.Running : ExecutionStatus.Queued;
        else runStatus = ExecutionStatus.Succeeded;
        return new RunDecision(runStatus, stageStatuses, toQueue, toSkip);
    }

    /// <summary>A stage is finished only when all its jobs are; failure wins over cancellation.</summary>
    public static ExecutionStatus StageStatusOf(IReadOnlyList<ExecutionStatus> jobs)
    {
        if (jobs.Count == 0) return ExecutionStatus.Succeeded;
        if (jobs.Any(s => !s.IsFinal()))
            return jobs.Any(s => s is ExecutionStatus.Running or ExecutionStatus.Succeeded or ExecutionStatus.Failed or ExecutionStatus.Cancelled)
                ? ExecutionStatus.Running
                : ExecutionStatus.Queued;
        if (jobs.Any(s => s == ExecutionStatus.Failed)) return ExecutionStatus.Failed;
        if (jobs.Any(s => s == ExecutionStatus.Cancelled)) return ExecutionStatus.Cancelled;
        if (jobs.All(s => s == ExecutionStatus.Skipped)) return ExecutionStatus.Skipped;
        return ExecutionStatus.Succeeded;
    }
}
