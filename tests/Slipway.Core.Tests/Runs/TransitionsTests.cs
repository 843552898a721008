using Slipway.Core.Runs;
using static Slipway.Core.Runs.ExecutionStatus;

namespace Slipway.Core.Tests.Runs;

public class TransitionsTests
{
    private static readonly (ExecutionStatus From, ExecutionStatus To)[] JobAllowed =
    [
        (Pending, Queued), (Pending, Skipped), (Pending, Cancelled),
        (Queued, Running), (Queued, Cancelled), (Queued, Failed),
        (Running, Succeeded), (Running, Failed), (Running, Cancelled), (Running, Queued),
        (Failed, Queued), (Cancelled, Queued), (Skipped, Pending),
    ];

    private static readonly (ExecutionStatus From, ExecutionStatus To)[] RunAllowed =
    [
        (Queued, Running), (Queued, Succeeded), (Queued, Failed), (Queued, Cancelled),
        (Running, Succeeded), (Running, Failed), (Running, Cancelled), (Running, Queued),
        (Failed, Queued), (Cancelled, Queued),
    ];

    [Theory]
    [InlineData(Pending, Queued)]
    [InlineData(Pending, Skipped)]
    [InlineData(Pending, Cancelled)]
    [InlineData(Queued, Running)]
    [InlineData(Queued, Cancelled)]
    [InlineData(Queued, Failed)]
    [InlineData(Running, Succeeded)]
    [InlineData(Running, Failed)]
    [InlineData(Running, Cancelled)]
    [InlineData(Running, Queued)]
    [InlineData(Failed, Queued)]
    [InlineData(Cancelled, Queued)]
    [InlineData(Skipped, Pending)]
    public void EnsureJob_AllowedMove_DoesNotThrow(ExecutionStatus from, ExecutionStatus to)
    {
        Assert.True(Transitions.JobCan(from, to));
        Transitions.EnsureJob("build", from, to);
    }

    [Theory]
    [InlineData(Queued, Running)]
    [InlineData(Queued, Succeeded)]
    [InlineData(Queued, Failed)]
    [InlineData(Queued, Cancelled)]
    [InlineData(Running, Succeeded)]
    [InlineData(Running, Failed)]
    [InlineData(Running, Cancelled)]
    [InlineData(Running, Queued)]
    [InlineData(Failed, Queued)]
    [InlineData(Cancelled, Queued)]
    public void EnsureRun_AllowedMove_DoesNotThrow(ExecutionStatus from, ExecutionStatus to)
    {
        Assert.True(Transitions.RunCan(from, to));
        Transitions.EnsureRun(1, from, to);
    }

    [Fact]
    public void JobCanAndRunCan_EveryOtherPair_IsRefused()
    {
        foreach (var from in Enum.GetValues<ExecutionStatus>())
            foreach (var to in Enum.GetValues<ExecutionStatus>())
            {
                Assert.True(JobAllowed.Contains((from, to)) == Transitions.JobCan(from, to), $"job {from} -> {to}");
                Assert.True(RunAllowed.Contains((from, to)) == Transitions.RunCan(from, to), $"run {from} -> {to}");
            }
    }

    [Theory]
    [InlineData(Succeeded, Queued, "cannot move job 'build' from succeeded to queued: it has already finished (succeeded)")]
    [InlineData(Succeeded, Running, "cannot move job 'build' from succeeded to running: it has already finished (succeeded)")]
    [InlineData(Skipped, Queued, "cannot move job 'build' from skipped to queued: it has already finished (skipped)")]
    [InlineData(Failed, Running, "cannot move job 'build' from failed to running: it has already finished (failed)")]
    [InlineData(Pending, Running, "cannot move job 'build' from pending to running: that is not a valid step from pending")]
    [InlineData(Queued, Succeeded, "cannot move job 'build' from queued to succeeded: that is not a valid step from queued")]
    [InlineData(Running, Running, "cannot move job 'build' from running to running: that is not a valid step from running")]
    public void EnsureJob_ForbiddenMove_ThrowsNamingJobAndBothStates(ExecutionStatus from, ExecutionStatus to, string message)
    {
        var ex = Assert.Throws<InvalidTransitionException>(() => Transitions.EnsureJob("build", from, to));
        Assert.Equal(message, ex.Message);
        Assert.Equal(from, ex.From);
        Assert.Equal(to, ex.To);
        Assert.IsAssignableFrom<InvalidOperationException>(ex);
    }

    [Theory]
    [InlineData(Succeeded, Queued, "cannot move run 42 from succeeded to queued: it has already finished (succeeded)")]
    [InlineData(Cancelled, Cancelled, "cannot move run 42 from cancelled to cancelled: it has already finished (cancelled)")]
    [InlineData(Failed, Running, "cannot move run 42 from failed to running: it has already finished (failed)")]
    [InlineData(Queued, Queued, "cannot move run 42 from queued to queued: that is not a valid step from queued")]
    [InlineData(Running, Skipped, "cannot move run 42 from running to skipped: that is not a valid step from running")]
    [InlineData(Pending, Queued, "cannot move run 42 from pending to queued: that is not a valid step from pending")]
    public void EnsureRun_ForbiddenMove_ThrowsNamingRunAndBothStates(ExecutionStatus from, ExecutionStatus to, string message)
    {
        var ex = Assert.Throws<InvalidTransitionException>(() => Transitions.EnsureRun(42, from, to));
        Assert.Equal(message, ex.Message);
        Assert.Equal(from, ex.From);
        Assert.Equal(to, ex.To);
    }
}

public class ExecutionStatusTests
{
    [Theory]
    [InlineData(Pending, "pending", false)]
    [InlineData(Queued, "queued", false)]
    [InlineData(Running, "running", false)]
    [InlineData(Succeeded, "succeeded", true)]
    [InlineData(Failed, "failed", true)]
    [InlineData(Cancelled, "cancelled", true)]
    [InlineData(Skipped, "skipped", true)]
    public void Status_WireNameRoundTripsAndFinalityIsKnown(ExecutionStatus status, string wire, bool final)
    {
        Assert.Equal(wire, status.ToWire());
        Assert.Equal(status, StatusNames.Parse(wire));
        Assert.Equal(final, status.IsFinal());
    }

    [Theory]
    [InlineData("")]
    [InlineData("Failed")]
    [InlineData("canceled")]
    [InlineData(" queued")]
    public void Parse_UnknownName_ThrowsFormatException(string wire)
    {
        var ex = Assert.Throws<FormatException>(() => StatusNames.Parse(wire));
        Assert.Contains($"'{wire}'", ex.Message);
    }

    [Fact]
    public void ToWire_UndefinedValue_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ExecutionStatus)99).ToWire());
}
