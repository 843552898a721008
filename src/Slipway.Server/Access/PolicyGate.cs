using Microsoft.AspNetCore.Http;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Policies;

namespace Slipway.Server.Access;

/// <summary>
/// Where an endpoint applies segregation-of-duties rules. A refusal becomes a 403 naming the rule and is audited as a
/// denied entry of the action that was attempted (<c>deployment.approve</c>, <c>cr.review</c>, <c>grant.manage</c>), so an
/// auditor filtering by that action sees it; an override that was asked for and refused is also a denied <c>policy.override</c>.
/// An override is taken only when the caller holds <c>policy.override</c> and gave a reason; it is audited as a flagged
/// entry ("POLICY OVERRIDE") before the action proceeds, so no rule is ever bypassed silently — not even by an admin.
/// </summary>
public static class PolicyGate
{
    public const string OverrideFlag = "POLICY OVERRIDE";

    /// <param name="action">The action the rule guards: the one a refusal is audited under.</param>
    public static async Task EnforceAsync(Actor actor, string action, PolicyDecision decision, string? overrideReason, string target)
    {
        var user = actor.User;
        var ovr = string.IsNullOrWhiteSpace(overrideReason) ? null : new PolicyOverride(user.Username, overrideReason);
        switch (Policy.ApplyOverride(decision, ovr, user.Permissions.Can(Actions.PolicyOverride)))
        {
            case PolicyDecision.Refused refused:
                await actor.AuditAsync(action, AuditOutcomes.Denied, target, refused.Message);
                // An override asked for and refused is worth its own entry: whoever watches policy.override sees it.
                if (ovr is not null) await actor.AuditAsync(Actions.PolicyOverride, AuditOutcomes.Denied, target, refused.Message);
                throw new PolicyRefusedException(refused.Message);
            case PolicyDecision.Overridden overridden:
                await actor.AuditAsync(Actions.PolicyOverride, AuditOutcomes.Succeeded, target,
                    $"{OverrideFlag}: {overridden.Message} (refusal was: {overridden.RefusalMessage})");
                break;
        }
    }
}
