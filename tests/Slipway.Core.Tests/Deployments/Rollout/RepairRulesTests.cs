using Slipway.Core.Deployments;
using Slipway.Core.Deployments.Rollout;

namespace Slipway.Core.Tests.Deployments.Rollout;

public sealed class RepairRulesTests
{
    private static readonly RepairRules.TargetRecord[] Mixed =
    [
        new("web-1", "succeeded", "ready"),
        new("web-2", "failed", "maint"),
        new("web-3", "unknown", "drain"),
        new("web-4", "failed", null),        // failed before it was taken out: nothing to put back
        new("web-5", "not-run", null),
    ];

    [Fact]
    public void PutsBackExactlyTheTargetsLeftInDrainOrMaint()
    {
        var (targets, refusal) = RepairRules.Plan(8, DeploymentState.Failed, Mixed, laterDeployment: null, environmentBusy: false);
        Assert.Null(refusal);
        Assert.Equal(["web-2", "web-3"], targets);
    }

    [Fact]
    public void AfterALostAgent_EveryTargetItWasWorkingOnIsACandidate_WhateverItLastReported()
    {
        RepairRules.TargetRecord[] lost = [new("web-1", "succeeded", "ready"), new("web-2", "unknown", null), new("web-3", "unknown", "ready"), new("web-4", "not-run", null)];
        Assert.Equal(["web-2", "web-3"], RepairRules.Plan(8, DeploymentState.Unknown, lost, null, false).Targets);
        Assert.Equal("nothing to repair: deployment #8 left no target out of rotation", RepairRules.Plan(8, DeploymentState.Failed, lost, null, false).Refusal);
    }

    [Theory]
    [InlineData(DeploymentState.Running, null, false, "deployment #8 is running: a repair follows a deployment that has ended")]
    [InlineData(DeploymentState.AwaitingApproval, null, false, "deployment #8 is awaiting approval")]
    [InlineData(DeploymentState.Unknown, 9L, false, "deployment #9 of the same environment started after #8")]
    [InlineData(DeploymentState.Cancelled, null, true, "the environment has a deployment or a repair running")]
    public void RefusesWhatIsNotSafeToRepair(DeploymentState state, long? later, bool busy, string expected)
    {
        var (targets, refusal) = RepairRules.Plan(8, state, Mixed, later, busy);
        Assert.Empty(targets);
        Assert.Contains(expected, refusal);
    }

    [Fact]
    public void RefusesWhenNothingIsOutOfRotation_OrTheDeploymentHadNoTargets()
    {
        Assert.Equal("nothing to repair: deployment #8 left no target out of rotation",
            RepairRules.Plan(8, DeploymentState.Succeeded, [new("web-1", "succeeded", "ready")], null, false).Refusal);
        Assert.Contains("is not a rolling deployment", RepairRules.Plan(8, DeploymentState.Failed, [], null, false).Refusal);
    }
}
