namespace Slipway.Core.Runs;

/// <summary>A job as a retry sees it.</summary>
public sealed record RetryJob(long Id, string Name, ExecutionStatus Status, int StageIndex);

/// <summary>What a retry does: which jobs go back to the queue, and from which stage skipped jobs wait again.</summary>
public sealed record RetryPlan(IReadOnlyList<RetryJob> Again, int FirstStage);

/// <summary>
/// The rules of retrying a run, as a pure function: only a failed or cancelled run with jobs can be retried; it re-queues
/// its failed and cancelled jobs (or the one named), and the jobs skipped because of them (in later stages) wait again.
/// Invalid asks fail loudly with <see cref="InvalidTransitionException"/> (or <see cref="KeyNotFoundException"/> for a
/// job the run does not have).
/// </summary>
public static class RunRetry
{
    /// <param name="run">The run as its users know it ("run #12"), for the messages.</param>
    public static RetryPlan Plan(string run, ExecutionStatus runStatus, IReadOnlyList<RetryJob> jobs, string? jobName)
    {
        if (runStatus is not (ExecutionStatus.Failed or ExecutionStatus.Cancelled))
            throw new InvalidTransitionException(run, runStatus, ExecutionStatus.Queued, "only a failed or cancelled run can be retried");
        if (jobs.Count == 0)
            throw new InvalidTransitionException(run, runStatus, ExecutionStatus.Queued,
                "its pipeline file is invalid, so it has no jobs; push a fixed .slipway.yml instead");
        var again = jobs.Where(j => j.Status is ExecutionStatus.Failed or ExecutionStatus.Cancelled && (jobName is null || j.Name == jobName)).ToList();
        if (jobName is not null && again.Count == 0)
        {
            var named = jobs.FirstOrDefault(j => j.Name == jobName) ?? throw new KeyNotFoundException($"{run} has no job '{jobName}'");
            Transitions.EnsureJob(jobName, named.Status, ExecutionStatus.Queued); // throws: e.g. it succeeded
        }
        foreach (var job in again) Transitions.EnsureJob(job.Name, job.Status, ExecutionStatus.Queued);
        return new RetryPlan(again, again.Count == 0 ? int.MaxValue : again.Min(j => j.StageIndex));
    }
}
