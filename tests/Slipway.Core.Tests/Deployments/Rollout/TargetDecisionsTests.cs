using Slipway.Core.Deployments;
using Slipway.Core.Deployments.Rollout;

namespace Slipway.Core.Tests.Deployments.Rollout;

public sealed class TargetDecisionsTests
{
    [Theory]
    [InlineData("retry")]
    [InlineData("skip")]
    [InlineData("abort")]
    public void APausedTargetOfARunningDeployment_TakesAnyDecision(string decision) =>
        Assert.Null(TargetDecisions.Refusal(8, DeploymentState.Running, "web-3", "paused", null, null, decision));

    [Theory]
    [InlineData(DeploymentState.Running, "failed", null, "target web-3 is not waiting for a decision (it is failed)")]
    [InlineData(DeploymentState.Running, "deploying", null, "target web-3 is not waiting for a decision (it is deploying)")]
    [InlineData(DeploymentState.Running, "paused", "skip", "target web-3 already has a decision (skip by alice)")]
    [InlineData(DeploymentState.Cancelled, "paused", null, "deployment #8 is cancelled: only a running deployment waits for decisions")]
    [InlineData(DeploymentState.Running, null, null, "deployment #8 has no target 'web-3'")]
    public void EveryOtherCaseIsRefused_SayingWhy(DeploymentState state, string? targetState, string? pending, string expected) =>
        Assert.StartsWith(expected, TargetDecisions.Refusal(8, state, "web-3", targetState, pending, "alice", "retry"));

    [Fact]
    public void AnUnknownDecisionIsABadRequest() =>
        Assert.Contains("retry, skip or abort",
            Assert.Throws<ArgumentException>(() => TargetDecisions.Refusal(8, DeploymentState.Running, "web-3", "paused", null, null, "ignore")).Message);
}
