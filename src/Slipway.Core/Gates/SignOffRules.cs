using Slipway.Core.Policies;

namespace Slipway.Core.Gates;

/// <summary>
/// Who may sign a release off. Segregation of duties as for approvals: nobody signs off a release containing a change
/// they wrote or merged. Where gates ask for this kind of sign-off from a role, the signer must hold one of those roles
/// (a sign-off by someone else would satisfy no gate, so it is refused rather than recorded as if it counted).
/// </summary>
public static class SignOffRules
{
    public const string NotAuthor = "signoff-not-author";
    public const string Role = "signoff-role";

    public static PolicyDecision MaySign(string signer, IReadOnlySet<string> signerRoles, IReadOnlyCollection<string> authorsAndMergers,
        IReadOnlyCollection<string> rolesAskedFor, string kind, string version)
    {
        if (authorsAndMergers.Contains(signer))
            return PolicyDecision.Refuse(NotAuthor, $"{signer} wrote or merged a change in {version} and so may not sign it off");
        if (rolesAskedFor.Count > 0 && !rolesAskedFor.Any(signerRoles.Contains))
            return PolicyDecision.Refuse(Role, $"the {kind} sign-off is asked of the role {string.Join(" or ", rolesAskedFor)}, which {signer} does not hold");
        return PolicyDecision.Allow;
    }

    /// <summary>
    /// The rejection that stands against a release, if any: the latest sign-off of some kind on some environment rejects
    /// it. It blocks the release everywhere until a newer sign-off of that kind on that environment accepts it.
    /// </summary>
    public static SignOff? StandingRejection(IReadOnlyList<SignOff> signOffs) =>
        signOffs.GroupBy(s => (s.Kind, s.Environment)).Select(g => g.OrderBy(s => s.At).ThenBy(s => s.Id).Last()).FirstOrDefault(s => !s.Accepted);

    /// <summary>Checks what a signer wrote: notes are required for a rejection (the team must learn why), all texts bounded.</summary>
    public static string? CheckNotes(bool accepted, string? notes) =>
        !accepted && string.IsNullOrWhiteSpace(notes) ? "a rejection needs notes saying what is wrong"
        : notes is { Length: > 4000 } ? "notes are limited to 4000 characters"
        : null;
}
