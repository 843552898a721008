using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Core.Tests.Audit;

public sealed class RoutineEntriesTests
{
    [Theory]
    [InlineData(AuditActorKinds.Agent, Actions.AgentWork, AuditOutcomes.Allowed, true)]
    [InlineData(AuditActorKinds.User, Actions.RunRead, AuditOutcomes.Allowed, true)]
    [InlineData(AuditActorKinds.User, Actions.UiView, AuditOutcomes.Allowed, true)]
    [InlineData(AuditActorKinds.Agent, Actions.AgentWork, AuditOutcomes.Denied, false)]   // a refusal always stands out
    [InlineData(AuditActorKinds.User, Actions.AuditRead, AuditOutcomes.Denied, false)]
    [InlineData(AuditActorKinds.User, Actions.DeploymentStart, AuditOutcomes.Allowed, false)] // a change is never routine
    [InlineData(AuditActorKinds.System, Actions.UserManage, AuditOutcomes.Succeeded, false)]
    public void OnlyAllowedAgentTrafficAndAllowedReads_AreRoutine(string kind, string action, string outcome, bool routine)
    {
        Assert.Equal(routine, RoutineEntries.IsRoutine(kind, action, outcome));
    }

    [Fact]
    public void TheReadActions_AreExactlyTheCataloguesReads()
    {
        Assert.Contains(Actions.LogRead, RoutineEntries.ReadActions);
        Assert.DoesNotContain(Actions.VariableWrite, RoutineEntries.ReadActions);
        Assert.All(RoutineEntries.ReadActions, a => Assert.True(Actions.Get(a).IsRead));
    }
}
