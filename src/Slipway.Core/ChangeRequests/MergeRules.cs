namespace Slipway.Core.ChangeRequests;

/// <summary>
/// What a target branch demands before a change request merges into it, set by admins per branch. Branches
/// without their own rules get <see cref="Default"/>: one approval, approvals dismissed by new commits. A green
/// pipeline on the exact head commit and no conflicts are always required; they are not settings.
/// </summary>
/// <param name="RequiredApprovals">Distinct approvals needed, from users who are neither the change's author nor an author of its commits.</param>
/// <param name="DismissStaleApprovals">True: an approval counts only for the head commit it was given on.</param>
public sealed record MergeRules(int RequiredApprovals, bool DismissStaleApprovals)
{
    public const int MaxRequiredApprovals = 10;

    public static readonly MergeRules Default = new(1, true);

    /// <summary>Null when the rules are acceptable, else why not.</summary>
    public string? Check() =>
        RequiredApprovals is < 0 or > MaxRequiredApprovals
            ? $"required approvals must be 0 to {MaxRequiredApprovals}"
            : null;
}
