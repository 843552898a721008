using Slipway.Core.Policies;

namespace Slipway.Core.Tests.Policies;

public class PolicyOverrideTests
{
    private static PolicyDecision.Refused Refusal() =>
        (PolicyDecision.Refused)Policy.ActorIsNotAuthor("root", ["root"], "commit 3f2a1c9 of this change");

    [Fact]
    public void Override_ByPermittedActorWithReason_IsFlaggedNotAllowed()
    {
        var decision = Policy.ApplyOverride(Refusal(), new PolicyOverride("root", "  production is down, incident 42  "), actorMayOverride: true);

        var overridden = Assert.IsType<PolicyDecision.Overridden>(decision);
        Assert.Equal(PolicyDecisionKind.Overridden, overridden.Kind);
        Assert.NotEqual(PolicyDecisionKind.Allowed, overridden.Kind);
        Assert.True(overridden.MayProceed);
        Assert.Equal(PolicyRules.ActorNotAuthor, overridden.Rule);
        Assert.Equal("root", overridden.Actor);
        Assert.Equal("production is down, incident 42", overridden.Reason);
        Assert.Equal(Refusal().Message, overridden.RefusalMessage);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("because")]
    [InlineData("  123456789  ")]   // 9 characters once trimmed
    public void Override_WithoutAProperReason_IsRefused(string reason)
    {
        var decision = Policy.ApplyOverride(Refusal(), new PolicyOverride("root", reason), actorMayOverride: true);

        var refused = Assert.IsType<PolicyDecision.Refused>(decision);
        Assert.False(refused.MayProceed);
        Assert.Equal(PolicyRules.ActorNotAuthor, refused.Rule);
        Assert.StartsWith(Refusal().Message, refused.Message);
        Assert.Contains("an override needs a reason of at least 10 characters", refused.Message);
    }

    [Fact]
    public void Override_ReasonOfExactlyTenCharacters_IsAccepted() =>
        Assert.IsType<PolicyDecision.Overridden>(Policy.ApplyOverride(Refusal(), new PolicyOverride("root", "1234567890"), true));

    [Fact]
    public void Override_ByNonPermittedActor_IsRefused()
    {
        var decision = Policy.ApplyOverride(Refusal(), new PolicyOverride("mallory", "I really need to ship this"), actorMayOverride: false);

        var refused = Assert.IsType<PolicyDecision.Refused>(decision);
        Assert.Contains("mallory may not override policies", refused.Message);
        Assert.Contains("refused by rule 'actor-not-author'", refused.Message);
    }

    [Fact]
    public void NoOverride_LeavesTheRefusal()
    {
        var refusal = Refusal();
        Assert.Same(refusal, Policy.ApplyOverride(refusal, null, actorMayOverride: true));
    }

    [Fact]
    public void Override_OfAnAllowedDecision_StaysAllowed() =>
        Assert.Same(PolicyDecision.Allow, Policy.ApplyOverride(PolicyDecision.Allow, new PolicyOverride("root", "nothing to bypass here"), true));
}
