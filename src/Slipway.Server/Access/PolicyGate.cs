using Microsoft.AspNetCore.Http;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Policies;

namespace Slipway.Server.Access;

/// <summary>
/// Where an endpoint applies segregation-of-duties rules. A refusal becomes a 403 naming the rule and is
/// audited as denied. An override is taken only when the caller holds <c>policy.override</c> and gave a
/// reason; it is audited as a flagged entry ("POLICY OVERRIDE") before the action proceeds, so no rule is
/// ever bypassed silently — not even by an admin.
/// </summary>
public static class PolicyGate
{
    public const string OverrideFlag = "POLICY OVERRIDE";

    public static Task EnforceAsync(HttpContext context, PolicyDecision decision, string? overrideReason, string target) =>
        EnforceAsync(Actor.Of(context), decision, overrideReason, target);

    public static async Task EnforceAsync(Actor actor, PolicyDecision decision, string? overrideReason, string target)
    {
        var user = actor.User;
        var ovr = string.IsNullOrWhiteSpace(overrideReason) ? null : new PolicyOverride(user.Username, overrideReason);
        switch (Policy.ApplyOverride(decision, ovr, user.Permissions.Can(Actions.PolicyOverride)))
        {
            case PolicyDecision.Refused refused:
                await actor.AuditAsync(Actions.PolicyOverride, AuditOutcomes.Denied, target, refused.Message);
                throw new PolicyRefusedException(refused.Message);
            case PolicyDecision.Overridden overridden:
                await actor.AuditAsync(Actions.PolicyOverride, AuditOutcomes.Succeeded, target,
                    $"{OverrideFlag}: {overridden.Message} (refusal was: {overridden.RefusalMessage})");
                break;
        }
    }
}
