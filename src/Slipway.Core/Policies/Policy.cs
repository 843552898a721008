namespace Slipway.Core.Policies;

/// <summary>
/// Segregation-of-duties rules as pure functions over the facts of an action. Each returns
/// <see cref="PolicyDecision.Allow"/> or a refusal naming its rule; callers combine them with
/// <see cref="All"/> (first refusal) or <see cref="Evaluate"/> (every refusal, for a UI).
/// Usernames are compared ordinal, case-insensitive: an identity provider may hand back "Alice"
/// where the git author says "alice", and treating them as two people would defeat the rule.
/// Named <c>Policy</c>, not <c>Policies</c>, because a type named like its namespace cannot be
/// referenced from code in other <c>Slipway.Core.*</c> namespaces (the namespace wins the lookup).
/// </summary>
public static class Policy
{
    public const int MinimumOverrideReasonLength = 10;

    private static readonly StringComparer Users = StringComparer.OrdinalIgnoreCase;

    /// <summary>The actor did not author any part of the subject (e.g. a commit of the change).</summary>
    /// <param name="subject">What the actor wrote, for the message, e.g. "commit 3f2a1c9 of this change".</param>
    /// <param name="action">What the actor may not do, for the message.</param>
    public static PolicyDecision ActorIsNotAuthor(string actor, IReadOnlyCollection<string> authors, string subject, string action = "approve")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        return authors.Contains(actor, Users)
            ? PolicyDecision.Refuse(PolicyRules.ActorNotAuthor, $"{actor} wrote {subject} and may not {action} it")
            : PolicyDecision.Allow;
    }

    /// <summary>
    /// At least <paramref name="required"/> distinct users approved while holding <paramref name="role"/>
    /// (null: any role). A user who approved twice counts once.
    /// </summary>
    public static PolicyDecision DistinctApprovers(IReadOnlyList<Approval> approvals, int required, string? role)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(required);
        var counted = approvals
            .Where(a => role is null || a.Roles.Contains(role, StringComparer.OrdinalIgnoreCase))
            .Select(a => a.User)
            .Distinct(Users)
            .ToList();
        if (counted.Count >= required) return PolicyDecision.Allow;

        var who = role is null ? "distinct users" : $"distinct users holding role '{role}'";
        var have = counted.Count == 0 ? "there are none" : $"there {(counted.Count == 1 ? "is" : "are")} {counted.Count} ({string.Join(", ", counted)})";
        return PolicyDecision.Refuse(PolicyRules.DistinctApprovers,
            $"{required} approval{(required == 1 ? "" : "s")} by {who} needed, {have}");
    }

    /// <summary>The user who started a request does not approve it.</summary>
    public static PolicyDecision InitiatorDoesNotApprove(string initiator, string approver)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(initiator);
        ArgumentException.ThrowIfNullOrWhiteSpace(approver);
        return Users.Equals(initiator, approver)
            ? PolicyDecision.Refuse(PolicyRules.InitiatorNotApprover, $"{approver} started this request and may not also approve it")
            : PolicyDecision.Allow;
    }

    /// <summary>A user who approved is not also the one who executes.</summary>
    public static PolicyDecision ApproverDoesNotExecute(IEnumerable<string> approvers, string executor)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executor);
        return approvers.Contains(executor, Users)
            ? PolicyDecision.Refuse(PolicyRules.ApproverNotExecutor, $"{executor} approved this and may not also execute it")
            : PolicyDecision.Allow;
    }

    /// <summary>Nobody changes their own access: a grant is always given by someone else.</summary>
    public static PolicyDecision NoSelfGrant(string actor, string grantee)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(grantee);
        return Users.Equals(actor, grantee)
            ? PolicyDecision.Refuse(PolicyRules.NoSelfGrant, $"{actor} may not change their own grants; ask another admin")
            : PolicyDecision.Allow;
    }

    /// <summary>Nobody hands out an action they do not hold themselves (<paramref name="notHeld"/> lists those).</summary>
    public static PolicyDecision NoEscalation(string actor, IReadOnlyCollection<string> notHeld) =>
        notHeld.Count == 0
            ? PolicyDecision.Allow
            : PolicyDecision.Refuse(PolicyRules.NoEscalation, $"{actor} does not hold {string.Join(", ", notHeld.Order())} and cannot grant it");

    /// <summary>
    /// The first refusal; otherwise the first override (so combining never hides that a rule was
    /// bypassed); otherwise <see cref="PolicyDecision.Allow"/>.
    /// </summary>
    public static PolicyDecision All(params PolicyDecision[] decisions) =>
        decisions.FirstOrDefault(d => d.Kind == PolicyDecisionKind.Refused)
        ?? decisions.FirstOrDefault(d => d.Kind == PolicyDecisionKind.Overridden)
        ?? PolicyDecision.Allow;

    /// <summary>Every refusal, in the order given, so a UI can list each unmet rule at once.</summary>
    public static IReadOnlyList<PolicyDecision.Refused> Evaluate(params PolicyDecision[] decisions) =>
        decisions.OfType<PolicyDecision.Refused>().ToList();

    /// <summary>
    /// Turns a refusal into an <see cref="PolicyDecision.Overridden"/> decision when the actor may
    /// override and gives a reason of at least <see cref="MinimumOverrideReasonLength"/> characters.
    /// Otherwise the refusal stands, its message extended with why the override was not taken.
    /// Never returns a plain Allowed for a refusal: a bypass must stay visible and be audited.
    /// Decisions that are not refusals are returned unchanged (there is nothing to override).
    /// </summary>
    public static PolicyDecision ApplyOverride(PolicyDecision decision, PolicyOverride? ovr, bool actorMayOverride)
    {
        if (decision is not PolicyDecision.Refused refused || ovr is null) return decision;

        if (string.IsNullOrWhiteSpace(ovr.Actor))
            return Amend(refused, "an override needs a named actor");
        if (!actorMayOverride)
            return Amend(refused, $"{ovr.Actor} may not override policies");
        var reason = ovr.Reason?.Trim() ?? "";
        if (reason.Length < MinimumOverrideReasonLength)
            return Amend(refused, $"an override needs a reason of at least {MinimumOverrideReasonLength} characters");
        return new PolicyDecision.Overridden(refused, ovr.Actor, reason);
    }

    private static PolicyDecision.Refused Amend(PolicyDecision.Refused refused, string why) =>
        new(refused.Rule, $"{refused.Message}; override not accepted: {why}");
}
