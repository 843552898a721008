using Slipway.Core.Policies;

namespace Slipway.Core.Tests.Policies;

public class PolicyRuleTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>"alice:qa,dev" is alice approving while holding roles qa and dev.</summary>
    private static List<Approval> Approvals(string compact) =>
        compact.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select((a, i) =>
        {
            var parts = a.Split(':');
            var roles = parts.Length > 1 ? parts[1].Split(',').ToHashSet() : [];
            return new Approval(parts[0], roles, T0.AddMinutes(i), null);
        }).ToList();

    [Theory]
    [InlineData("alice", "bob carol", true)]
    [InlineData("alice", "", true)]
    [InlineData("alice", "bob alice", false)]
    [InlineData("ALICE", "alice", false)]
    [InlineData("alice", "Alice", false)]
    public void ActorIsNotAuthor_RefusesAnyAuthor_IgnoringCase(string actor, string authors, bool allowed)
    {
        var decision = Policy.ActorIsNotAuthor(actor, authors.Split(' ', StringSplitOptions.RemoveEmptyEntries), "commit 3f2a1c9 of this change");
        Assert.Equal(allowed ? PolicyDecisionKind.Allowed : PolicyDecisionKind.Refused, decision.Kind);
    }

    [Fact]
    public void ActorIsNotAuthor_Refusal_NamesRuleActorAndSubject()
    {
        var refused = Assert.IsType<PolicyDecision.Refused>(Policy.ActorIsNotAuthor("alice", ["alice"], "commit 3f2a1c9 of this change"));
        Assert.Equal("actor-not-author", refused.Rule);
        Assert.Equal("refused by rule 'actor-not-author': alice wrote commit 3f2a1c9 of this change and may not approve it", refused.Message);
    }

    [Theory]
    [InlineData("", 0, null, true)]
    [InlineData("alice bob", 2, null, true)]
    [InlineData("alice alice", 2, null, false)]         // the same user twice counts once
    [InlineData("alice Alice ALICE bob", 2, null, true)]
    [InlineData("alice ALICE", 2, null, false)]         // ... also when the case differs
    [InlineData("alice:qa bob:qa", 2, "qa", true)]
    [InlineData("alice:qa bob:dev", 2, "qa", false)]    // role filter
    [InlineData("alice:qa,dev bob:QA", 2, "qa", true)]  // role names ignore case
    [InlineData("alice:dev alice:qa bob:qa", 2, "qa", true)]
    [InlineData("alice:qa bob carol", 1, "qa", true)]
    [InlineData("bob carol", 1, "qa", false)]
    public void DistinctApprovers_CountsDistinctUsersHoldingRole(string approvals, int required, string? role, bool allowed)
    {
        var decision = Policy.DistinctApprovers(Approvals(approvals), required, role);
        Assert.Equal(allowed ? PolicyDecisionKind.Allowed : PolicyDecisionKind.Refused, decision.Kind);
    }

    [Theory]
    [InlineData("alice:qa alice:qa bob:dev", 2, "qa",
        "refused by rule 'distinct-approvers': 2 approvals by distinct users holding role 'qa' needed, there is 1 (alice)")]
    [InlineData("", 1, null,
        "refused by rule 'distinct-approvers': 1 approval by distinct users needed, there are none")]
    [InlineData("alice bob", 3, null,
        "refused by rule 'distinct-approvers': 3 approvals by distinct users needed, there are 2 (alice, bob)")]
    public void DistinctApprovers_Refusal_SaysHowManyThereAreAndAreNeeded(string approvals, int required, string? role, string message)
    {
        var refused = Assert.IsType<PolicyDecision.Refused>(Policy.DistinctApprovers(Approvals(approvals), required, role));
        Assert.Equal(PolicyRules.DistinctApprovers, refused.Rule);
        Assert.Equal(message, refused.Message);
    }

    [Fact]
    public void DistinctApprovers_NegativeRequirement_IsAnError() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy.DistinctApprovers([], -1, null));

    [Theory]
    [InlineData("alice", "bob", true)]
    [InlineData("alice", "alice", false)]
    [InlineData("alice", "Alice", false)]
    public void InitiatorDoesNotApprove_TheirOwnRequest(string initiator, string approver, bool allowed)
    {
        var decision = Policy.InitiatorDoesNotApprove(initiator, approver);
        Assert.Equal(allowed ? PolicyDecisionKind.Allowed : PolicyDecisionKind.Refused, decision.Kind);
        if (!allowed)
            Assert.Equal($"refused by rule 'initiator-not-approver': {approver} started this request and may not also approve it",
                ((PolicyDecision.Refused)decision).Message);
    }

    [Theory]
    [InlineData("alice", "bob", true)]
    [InlineData("alice", "alice", false)]
    [InlineData("Alice", "alice", false)]
    public void NoSelfGrant_RefusesChangingOnesOwnGrants(string actor, string grantee, bool allowed)
    {
        var decision = Policy.NoSelfGrant(actor, grantee);
        Assert.Equal(allowed ? PolicyDecisionKind.Allowed : PolicyDecisionKind.Refused, decision.Kind);
        if (!allowed)
            Assert.StartsWith("refused by rule 'no-self-grant':", ((PolicyDecision.Refused)decision).Message);
    }

    [Fact]
    public void NoEscalation_NamesEveryActionNotHeld()
    {
        Assert.Equal(PolicyDecisionKind.Allowed, Policy.NoEscalation("carol", []).Kind);
        var refused = Assert.IsType<PolicyDecision.Refused>(Policy.NoEscalation("carol", ["user.manage", "audit.read"]));
        Assert.Equal("refused by rule 'no-escalation': carol does not hold audit.read, user.manage and cannot grant it", refused.Message);
    }

    [Theory]
    [InlineData("alice bob", "carol", true)]
    [InlineData("", "carol", true)]
    [InlineData("alice bob", "bob", false)]
    [InlineData("alice bob", "BOB", false)]
    public void ApproverDoesNotExecute_WhatTheyApproved(string approvers, string executor, bool allowed)
    {
        var decision = Policy.ApproverDoesNotExecute(approvers.Split(' ', StringSplitOptions.RemoveEmptyEntries), executor);
        Assert.Equal(allowed ? PolicyDecisionKind.Allowed : PolicyDecisionKind.Refused, decision.Kind);
        if (!allowed)
            Assert.Equal(PolicyRules.ApproverNotExecutor, ((PolicyDecision.Refused)decision).Rule);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void BlankUsername_IsAnError_NotAMatch(string blank)
    {
        Assert.Throws<ArgumentException>(() => Policy.ActorIsNotAuthor(blank, ["alice"], "x"));
        Assert.Throws<ArgumentException>(() => Policy.InitiatorDoesNotApprove(blank, "bob"));
        Assert.Throws<ArgumentException>(() => Policy.ApproverDoesNotExecute(["alice"], blank));
    }
}
