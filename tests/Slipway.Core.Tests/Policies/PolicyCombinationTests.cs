using Slipway.Core.Policies;

namespace Slipway.Core.Tests.Policies;

public class PolicyCombinationTests
{
    private static PolicyDecision AuthorRefusal() => Policy.ActorIsNotAuthor("alice", ["alice"], "commit 3f2a1c9");
    private static PolicyDecision InitiatorRefusal() => Policy.InitiatorDoesNotApprove("alice", "alice");
    private static PolicyDecision Overridden() =>
        Policy.ApplyOverride(AuthorRefusal(), new PolicyOverride("root", "hotfix for incident 42"), actorMayOverride: true);

    [Fact]
    public void All_WithoutRefusals_IsAllowed() =>
        Assert.Same(PolicyDecision.Allow, Policy.All(PolicyDecision.Allow, PolicyDecision.Allow));

    [Fact]
    public void All_ReturnsTheFirstRefusal()
    {
        var refused = Assert.IsType<PolicyDecision.Refused>(Policy.All(PolicyDecision.Allow, InitiatorRefusal(), AuthorRefusal()));
        Assert.Equal(PolicyRules.InitiatorNotApprover, refused.Rule);
    }

    [Fact]
    public void All_WithAnOverrideAndNoRefusal_KeepsTheOverrideVisible() =>
        Assert.IsType<PolicyDecision.Overridden>(Policy.All(PolicyDecision.Allow, Overridden()));

    [Fact]
    public void All_WithAnOverrideAndARefusal_IsRefused() =>
        Assert.IsType<PolicyDecision.Refused>(Policy.All(Overridden(), InitiatorRefusal()));

    [Fact]
    public void Evaluate_ListsEveryRefusalInOrder()
    {
        var refusals = Policy.Evaluate(AuthorRefusal(), PolicyDecision.Allow, Overridden(), InitiatorRefusal());
        Assert.Equal([PolicyRules.ActorNotAuthor, PolicyRules.InitiatorNotApprover], refusals.Select(r => r.Rule));
    }

    [Fact]
    public void Evaluate_WithoutRefusals_IsEmpty() => Assert.Empty(Policy.Evaluate(PolicyDecision.Allow));
}
