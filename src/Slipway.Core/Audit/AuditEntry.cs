namespace Slipway.Core.Audit;

/// <summary>
/// One line of the audit log. <see cref="Hash"/> seals every other field together with
/// <see cref="PreviousHash"/>, so changing, removing or reordering an entry breaks the chain
/// (see <see cref="AuditChain"/>). <see cref="At"/> is UTC with millisecond precision: that is what
/// the hash covers and what a database column keeps, so a stored entry still verifies after a round trip.
/// </summary>
public sealed record AuditEntry(
    long Sequence,
    DateTimeOffset At,
    string ActorKind,
    string Actor,
    string? Source,
    string Action,
    string? Target,
    string Outcome,
    string? Detail,
    string? RequestId,
    string PreviousHash,
    string Hash)
{
    /// <summary>An entry before sealing: the hashes are filled in by <see cref="AuditChain.Seal"/>.</summary>
    public static AuditEntry Unsealed(long sequence, DateTimeOffset at, string actorKind, string actor, string? source,
        string action, string? target, string outcome, string? detail = null, string? requestId = null) =>
        new(sequence, at, actorKind, actor, source, action, target, outcome, detail, requestId, "", "");
}

/// <summary>Who acted: the values of <see cref="AuditEntry.ActorKind"/>.</summary>
public static class AuditActorKinds
{
    public const string User = "user";
    public const string Token = "token";
    public const string Agent = "agent";
    public const string Anonymous = "anonymous";
    public const string System = "system";
    public static readonly IReadOnlySet<string> All = new HashSet<string> { User, Token, Agent, Anonymous, System };
}

/// <summary>How it ended: the values of <see cref="AuditEntry.Outcome"/>.</summary>
public static class AuditOutcomes
{
    public const string Allowed = "allowed";
    public const string Denied = "denied";
    public const string Failed = "failed";
    public const string Succeeded = "succeeded";
    public static readonly IReadOnlySet<string> All = new HashSet<string> { Allowed, Denied, Failed, Succeeded };
}
