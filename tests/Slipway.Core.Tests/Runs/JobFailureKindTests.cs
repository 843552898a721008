using Slipway.Core.Runs;
using Xunit;

namespace Slipway.Core.Tests.Runs;

public class JobFailureKindTests
{
    [Theory]
    [InlineData(JobFailureKind.Step, "step")]
    [InlineData(JobFailureKind.AgentLost, "agent_lost")]
    [InlineData(JobFailureKind.Setup, "setup")]
    [InlineData(JobFailureKind.Cancelled, "cancelled")]
    public void EveryKind_HasOneWireForm_ThatParsesBack(JobFailureKind kind, string wire)
    {
        Assert.Equal(wire, kind.ToWire());
        Assert.Equal(kind, JobFailureKinds.Parse(wire));
    }

    [Fact]
    public void NoKind_IsNull_AndAnUnknownOne_IsRefused()
    {
        Assert.Null(JobFailureKinds.Parse(null));
        Assert.Throws<FormatException>(() => JobFailureKinds.Parse("agent lost: its lease expired"));
    }

    [Fact]
    public void EveryEnumValue_IsCovered()
    {
        foreach (var kind in Enum.GetValues<JobFailureKind>()) Assert.Equal(kind, JobFailureKinds.Parse(kind.ToWire()));
    }
}
