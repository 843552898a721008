using Slipway.Core.Runs;
using static Slipway.Core.Runs.ExecutionStatus;

namespace Slipway.Core.Tests.Runs;

/// <summary>
/// Runs are written compactly: stages separated by '|', job statuses (wire names) by spaces;
/// a stage starting with '~' is skipped by its <c>when</c> filter. Job ids are stage*10 + position + 1,
/// so "succeeded | pending pending" has jobs 1, 11 and 12.
/// </summary>
public class RunEvaluatorTests
{
    internal static (List<StageState> Stages, List<JobState> Jobs) Parse(string run)
    {
        var stages = new List<StageState>();
        var jobs = new List<JobState>();
        var parts = run.Split('|');
        for (var i = 0; i < parts.Length; i++)
        {
            var text = parts[i].Trim();
            var filtered = text.StartsWith('~');
            if (filtered) text = text[1..];
            stages.Add(new StageState(i, filtered ? Skipped : Pending, filtered));
            var names = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (var j = 0; j < names.Length; j++)
                jobs.Add(new JobState(i * 10 + j + 1, i, StatusNames.Parse(names[j])));
        }
        return (stages, jobs);
    }

    private static RunDecision Evaluate(string run)
    {
        var (stages, jobs) = Parse(run);
        return RunEvaluator.Evaluate(stages, jobs);
    }

    private static string StagesOf(RunDecision d) =>
        string.Join("|", d.StageStatuses.OrderBy(s => s.Key).Select(s => s.Value.ToWire()));

    [Fact]
    public void Evaluate_NewRun_QueuesOnlyFirstStage()
    {
        var d = Evaluate("pending pending | pending");
        Assert.Equal(Queued, d.RunStatus);
        Assert.Equal("queued|pending", StagesOf(d));
        Assert.Equal([1L, 2L], d.JobsToQueue);
        Assert.Empty(d.JobsToSkip);
    }

    [Fact]
    public void Evaluate_FirstStageSucceeded_QueuesSecondStage()
    {
        var d = Evaluate("succeeded succeeded | pending pending | pending");
        Assert.Equal(Running, d.RunStatus);
        Assert.Equal("succeeded|queued|pending", StagesOf(d));
        Assert.Equal([11L, 12L], d.JobsToQueue);
        Assert.Empty(d.JobsToSkip);
    }

    [Theory]
    [InlineData("failed running | pending")]
    [InlineData("failed queued | pending")]
    [InlineData("running failed succeeded | pending")]
    public void Evaluate_FailedJobWhileSiblingRuns_KeepsStageRunning(string run)
    {
        var d = Evaluate(run);
        Assert.Equal(Running, d.RunStatus);
        Assert.Equal("running|pending", StagesOf(d));
        Assert.Empty(d.JobsToQueue);
        Assert.Empty(d.JobsToSkip); // later stages are only skipped once the failure is final
    }

    [Fact]
    public void Evaluate_FailedStage_SkipsLaterStagesAndFailsRun()
    {
        var d = Evaluate("succeeded | failed succeeded | pending pending | ~pending");
        Assert.Equal(Failed, d.RunStatus);
        Assert.Equal("succeeded|failed|skipped|skipped", StagesOf(d));
        Assert.Empty(d.JobsToQueue);
        Assert.Equal([21L, 22L, 31L], d.JobsToSkip);
    }

    [Theory]
    [InlineData("~pending | pending", "skipped|queued", Queued, new long[] { 11 })]
    [InlineData("succeeded | ~pending | pending", "succeeded|skipped|queued", Running, new long[] { 21 })]
    [InlineData("succeeded | ~skipped | succeeded", "succeeded|skipped|succeeded", Succeeded, new long[0])]
    public void Evaluate_StageSkippedByFilter_IsPassedOver(string run, string stages, ExecutionStatus runStatus, long[] toQueue)
    {
        var d = Evaluate(run);
        Assert.Equal(stages, StagesOf(d));
        Assert.Equal(runStatus, d.RunStatus);
        Assert.Equal(toQueue, d.JobsToQueue);
    }

    [Fact]
    public void Evaluate_FilteredStageBehindRunningStage_IsSkippedAtOnce()
    {
        // Its fate is fixed at planning, so there is no reason to keep its jobs pending.
        var d = Evaluate("running | ~pending | pending");
        Assert.Equal("running|skipped|pending", StagesOf(d));
        Assert.Equal([11L], d.JobsToSkip);
        Assert.Empty(d.JobsToQueue);
        Assert.Equal(Running, d.RunStatus);
    }

    [Fact]
    public void Evaluate_AllStagesSkippedByFilter_RunSucceeds()
    {
        // Nothing to do on this branch is a success: runs have no 'skipped' status (see Transitions),
        // and Queued -> Succeeded is an allowed run move.
        var d = Evaluate("~pending | ~pending pending");
        Assert.Equal(Succeeded, d.RunStatus);
        Assert.Equal("skipped|skipped", StagesOf(d));
        Assert.Equal([1L, 11L, 12L], d.JobsToSkip);
        Assert.Empty(d.JobsToQueue);
        Assert.True(Transitions.RunCan(Queued, d.RunStatus));
    }

    [Theory]
    [InlineData("succeeded | succeeded succeeded")]
    [InlineData("succeeded | ~skipped")]
    [InlineData("")]
    public void Evaluate_EverythingDone_RunSucceeds(string run)
    {
        var d = Evaluate(run);
        Assert.Equal(Succeeded, d.RunStatus);
        Assert.Empty(d.JobsToQueue);
        Assert.Empty(d.JobsToSkip);
    }

    [Fact]
    public void Evaluate_NoStages_RunSucceeds()
    {
        var d = RunEvaluator.Evaluate([], []);
        Assert.Equal(Succeeded, d.RunStatus);
        Assert.Empty(d.StageStatuses);
    }

    [Fact]
    public void Evaluate_CancelledJob_CancelsRun()
    {
        var d = Evaluate("succeeded | cancelled succeeded | pending");
        Assert.Equal(Cancelled, d.RunStatus);
        Assert.Equal("succeeded|cancelled|skipped", StagesOf(d));
        Assert.Equal([21L], d.JobsToSkip);
    }

    [Fact]
    public void Evaluate_RunCancelledWhileJobStillRunning_WaitsForIt()
    {
        // RunStore.CancelAsync cancels pending/queued jobs at once; running ones report later.
        var d = Evaluate("running cancelled | cancelled");
        Assert.Equal(Running, d.RunStatus);
        Assert.Equal("running|pending", StagesOf(d));

        var done = Evaluate("cancelled cancelled | cancelled");
        Assert.Equal(Cancelled, done.RunStatus);
        Assert.Equal("cancelled|skipped", StagesOf(done));
        Assert.Empty(done.JobsToSkip); // already cancelled, nothing pending
    }

    [Fact]
    public void Evaluate_FailedAndCancelledInOneStage_FailureWins()
    {
        var d = Evaluate("cancelled failed | pending");
        Assert.Equal(Failed, d.RunStatus);
        Assert.Equal("failed|skipped", StagesOf(d));
    }

    [Fact]
    public void Evaluate_RetriedJobRequeued_RunBackToRunning()
    {
        // After RunStore.RetryAsync: the failed job and the jobs skipped because of it are pending again,
        // and the run is queued.
        var d = Evaluate("succeeded | succeeded pending | pending");
        Assert.Equal(Running, d.RunStatus);
        Assert.Equal("succeeded|running|pending", StagesOf(d));
        Assert.Equal([12L], d.JobsToQueue);
        Assert.Empty(d.JobsToSkip);
        Assert.True(Transitions.RunCan(Queued, d.RunStatus));
    }

    [Fact]
    public void Evaluate_OnlyJobRequeuedByAutomaticRetry_RunBackToQueued()
    {
        // Running -> Queued (retries left): nothing of the run is running any more.
        var d = Evaluate("queued | pending");
        Assert.Equal(Queued, d.RunStatus);
        Assert.True(Transitions.RunCan(Running, d.RunStatus));
    }

    [Fact]
    public void Evaluate_StagesGivenOutOfOrder_AreTakenByIndex()
    {
        var (stages, jobs) = Parse("succeeded | pending | pending");
        stages.Reverse();
        jobs.Reverse();
        var d = RunEvaluator.Evaluate(stages, jobs);
        Assert.Equal([11L], d.JobsToQueue);
        Assert.Equal("succeeded|queued|pending", StagesOf(d));
    }

    [Theory]
    [InlineData("pending pending | pending")]
    [InlineData("succeeded | pending pending | pending")]
    [InlineData("failed running | pending")]
    [InlineData("failed succeeded | pending | ~pending")]
    [InlineData("~pending | ~pending")]
    [InlineData("running | ~pending | pending")]
    [InlineData("cancelled | pending")]
    [InlineData("succeeded | succeeded pending | pending")]
    public void Evaluate_IsIdempotent(string run)
    {
        var (stages, jobs) = Parse(run);
        var first = RunEvaluator.Evaluate(stages, jobs);
        var again = RunEvaluator.Evaluate(stages, jobs);
        Assert.Equal(first.RunStatus, again.RunStatus);
        Assert.Equal(StagesOf(first), StagesOf(again));
        Assert.Equal(first.JobsToQueue, again.JobsToQueue);
        Assert.Equal(first.JobsToSkip, again.JobsToSkip);

        // Applying the decision (as RunProgress does) and evaluating again changes nothing more.
        var applied = jobs.Select(j =>
            first.JobsToQueue.Contains(j.Id) ? j with { Status = Queued }
            : first.JobsToSkip.Contains(j.Id) ? j with { Status = Skipped }
            : j).ToList();
        var after = RunEvaluator.Evaluate(stages, applied);
        Assert.Equal(first.RunStatus, after.RunStatus);
        Assert.Equal(StagesOf(first), StagesOf(after));
        Assert.Empty(after.JobsToQueue);
        Assert.Empty(after.JobsToSkip);
    }

    [Fact]
    public void Evaluate_QueuedAndSkippedJobsAreDisjointAndOnlyPending()
    {
        var (stages, jobs) = Parse("succeeded | pending running | pending | ~pending");
        var d = RunEvaluator.Evaluate(stages, jobs);
        Assert.Empty(d.JobsToQueue.Intersect(d.JobsToSkip));
        var pending = jobs.Where(j => j.Status == Pending).Select(j => j.Id).ToHashSet();
        Assert.All(d.JobsToQueue.Concat(d.JobsToSkip), id => Assert.Contains(id, pending));
    }

    [Theory]
    [InlineData("", Succeeded)]
    [InlineData("pending", Queued)]
    [InlineData("queued queued", Queued)]
    [InlineData("queued running", Running)]
    [InlineData("succeeded queued", Running)]
    [InlineData("failed running", Running)]
    [InlineData("cancelled queued", Running)]
    [InlineData("succeeded succeeded", Succeeded)]
    [InlineData("succeeded skipped", Succeeded)]
    [InlineData("skipped skipped", Skipped)]
    [InlineData("failed succeeded", Failed)]
    [InlineData("cancelled succeeded", Cancelled)]
    [InlineData("cancelled failed", Failed)]
    public void StageStatusOf_JobStatuses_GivesStageStatus(string jobs, ExecutionStatus expected)
    {
        var statuses = jobs.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(StatusNames.Parse).ToList();
        Assert.Equal(expected, RunEvaluator.StageStatusOf(statuses));
    }
}
