namespace Slipway.Core.Policies;

/// <summary>Stable rule ids: they appear in refusals, the audit log and API errors, so never rename one.</summary>
public static class PolicyRules
{
    public const string ActorNotAuthor = "actor-not-author";
    public const string DistinctApprovers = "distinct-approvers";
    public const string InitiatorNotApprover = "initiator-not-approver";
    public const string ApproverNotExecutor = "approver-not-executor";
    public const string NoSelfGrant = "no-self-grant";
    public const string NoEscalation = "no-escalation";
}
