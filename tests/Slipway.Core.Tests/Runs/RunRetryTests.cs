using Slipway.Core.Runs;
using Xunit;
using static Slipway.Core.Runs.ExecutionStatus;

namespace Slipway.Core.Tests.Runs;

public class RunRetryTests
{
    private static readonly RetryJob Build = new(1, "build", Succeeded, 0);
    private static readonly RetryJob Test = new(2, "test", Failed, 1);
    private static readonly RetryJob Lint = new(3, "lint", Cancelled, 1);
    private static readonly RetryJob Deploy = new(4, "deploy", Skipped, 2);

    [Fact]
    public void AFailedRun_RequeuesItsFailedAndCancelledJobs_FromTheirEarliestStage()
    {
        var plan = RunRetry.Plan("run #7", Failed, [Build, Test, Lint, Deploy], null);
        Assert.Equal(["test", "lint"], plan.Again.Select(j => j.Name));
        Assert.Equal(1, plan.FirstStage);
    }

    [Fact]
    public void ANamedJob_IsTheOnlyOneRequeued()
    {
        var plan = RunRetry.Plan("run #7", Cancelled, [Build, Test, Lint, Deploy], "lint");
        Assert.Equal(["lint"], plan.Again.Select(j => j.Name));
    }

    [Theory]
    [InlineData(Succeeded)]
    [InlineData(Running)]
    [InlineData(Queued)]
    public void OnlyAFailedOrCancelledRun_CanBeRetried(ExecutionStatus status)
    {
        var e = Assert.Throws<InvalidTransitionException>(() => RunRetry.Plan("run #7", status, [Build, Test], null));
        Assert.Contains("only a failed or cancelled run can be retried", e.Message);
    }

    [Fact]
    public void ARunWithoutJobs_SaysToPushAFixedPipelineFile()
    {
        var e = Assert.Throws<InvalidTransitionException>(() => RunRetry.Plan("run #7", Failed, [], null));
        Assert.Equal("cannot move run #7 from failed to queued: its pipeline file is invalid, so it has no jobs; push a fixed .slipway.yml instead", e.Message);
    }

    [Fact]
    public void RetryingASucceededJob_FailsLoudly_AndAnUnknownOne_IsNotFound()
    {
        Assert.Throws<InvalidTransitionException>(() => RunRetry.Plan("run #7", Failed, [Build, Test], "build"));
        Assert.Throws<KeyNotFoundException>(() => RunRetry.Plan("run #7", Failed, [Build, Test], "nope"));
    }
}
