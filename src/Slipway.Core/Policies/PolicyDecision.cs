namespace Slipway.Core.Policies;

public enum PolicyDecisionKind { Allowed, Refused, Overridden }

/// <summary>
/// The outcome of a policy check. A closed hierarchy (the constructor is private, so only the three
/// nested types exist): callers switch on the type or <see cref="Kind"/>. There is deliberately no
/// <c>IsAllowed</c> that is also true for an override: <see cref="Overridden"/> may proceed, but it
/// is a different type that carries who bypassed which rule and why, and callers must audit it.
/// </summary>
public abstract class PolicyDecision
{
    private PolicyDecision() { }

    public abstract PolicyDecisionKind Kind { get; }

    /// <summary>True for <see cref="Allowed"/> and <see cref="Overridden"/>; false for <see cref="Refused"/>.</summary>
    public bool MayProceed => Kind != PolicyDecisionKind.Refused;

    public static readonly Allowed Allow = new();

    /// <summary>A refusal whose message names the rule: "refused by rule 'id': detail".</summary>
    public static Refused Refuse(string rule, string detail) => new(rule, $"refused by rule '{rule}': {detail}");

    public sealed class Allowed : PolicyDecision
    {
        internal Allowed() { }
        public override PolicyDecisionKind Kind => PolicyDecisionKind.Allowed;
        public override string ToString() => "allowed";
    }

    public sealed class Refused : PolicyDecision
    {
        internal Refused(string rule, string message) { Rule = rule; Message = message; }
        public override PolicyDecisionKind Kind => PolicyDecisionKind.Refused;
        /// <summary>Stable kebab-case id of the rule, see <see cref="PolicyRules"/>.</summary>
        public string Rule { get; }
        public string Message { get; }
        public override string ToString() => Message;
    }

    /// <summary>A refusal an authorised actor bypassed with a reason. Must be audited.</summary>
    public sealed class Overridden : PolicyDecision
    {
        internal Overridden(Refused refusal, string actor, string reason)
        {
            Rule = refusal.Rule; RefusalMessage = refusal.Message; Actor = actor; Reason = reason;
        }
        public override PolicyDecisionKind Kind => PolicyDecisionKind.Overridden;
        public string Rule { get; }
        /// <summary>The refusal that was bypassed, kept verbatim for the audit log.</summary>
        public string RefusalMessage { get; }
        public string Actor { get; }
        public string Reason { get; }
        public string Message => $"rule '{Rule}' overridden by {Actor}: {Reason}";
        public override string ToString() => Message;
    }
}
