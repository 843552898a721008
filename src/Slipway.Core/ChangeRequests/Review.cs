using Slipway.Core.Policies;

namespace Slipway.Core.ChangeRequests;

/// <summary>A review's verdict. A comment-only review neither approves nor blocks.</summary>
public enum ReviewVerdict { Approve, RequestChanges, Comment }

/// <summary>One review as given: who, what, on which head commit, when (unix ms).</summary>
public sealed record Review(string Reviewer, ReviewVerdict Verdict, string HeadSha, long At);

/// <summary>
/// A commit of the change, the Slipway user who wrote it (null when its author matches no user) and the users who pushed it
/// into a hosted repository (the author is what the pusher wrote; who pushed is what the server saw).
/// </summary>
public sealed record ChangeCommit(string Sha, string? AuthorUser, IReadOnlyList<string>? PushedBy = null)
{
    /// <summary>Everyone this commit is the work of: its author and its pushers.</summary>
    public IEnumerable<string> Contributors => (AuthorUser is null ? [] : new[] { AuthorUser }).Concat(PushedBy ?? []);
}

public static class Reviews
{
    public const int MaxCommentLength = 20_000;

    /// <summary>The wire name: <c>approve</c>, <c>request-changes</c>, <c>comment</c>.</summary>
    public static string Name(this ReviewVerdict verdict) => verdict switch
    {
        ReviewVerdict.Approve => "approve",
        ReviewVerdict.RequestChanges => "request-changes",
        ReviewVerdict.Comment => "comment",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };

    public static ReviewVerdict Parse(string? name) =>
        Enum.GetValues<ReviewVerdict>().Cast<ReviewVerdict?>().FirstOrDefault(v => v!.Value.Name() == name)
        ?? throw new ArgumentException($"unknown verdict '{name}'; verdicts are approve, request-changes, comment");

    /// <summary>
    /// Whether <paramref name="reviewer"/> may give <paramref name="verdict"/>: nobody approves a change they
    /// opened or one containing a commit they wrote or pushed (the segregation-of-duties rule actor-not-author). Requesting
    /// changes and commenting are open to everyone who may review.
    /// </summary>
    public static PolicyDecision MayGive(string reviewer, ReviewVerdict verdict, string author, IReadOnlyList<ChangeCommit> commits)
    {
        if (verdict != ReviewVerdict.Approve) return PolicyDecision.Allow;
        var own = Policy.ActorIsNotAuthor(reviewer, [author], "this change request (opened it)");
        if (own is PolicyDecision.Refused) return own;
        var written = commits.FirstOrDefault(c => c.AuthorUser is not null && string.Equals(c.AuthorUser, reviewer, StringComparison.OrdinalIgnoreCase));
        if (written is not null)
            return Policy.ActorIsNotAuthor(reviewer, [written.AuthorUser!], $"commit {Short(written.Sha)} of this change request");
        var pushed = commits.FirstOrDefault(c => (c.PushedBy ?? []).Contains(reviewer, StringComparer.OrdinalIgnoreCase));
        return pushed is null
            ? PolicyDecision.Allow
            : PolicyDecision.Refuse(PolicyRules.ActorNotAuthor,
                $"{reviewer} pushed commit {Short(pushed.Sha)} of this change request and may not approve it (whoever its author line names)");
    }

    /// <summary>Everyone whose work the change is, besides its author: who wrote or pushed any of its commits.</summary>
    public static IReadOnlyList<string> Contributors(IEnumerable<ChangeCommit> commits) =>
        commits.SelectMany(c => c.Contributors).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();

    private static string Short(string sha) => sha[..Math.Min(12, sha.Length)];

    /// <summary>Each reviewer's latest approve or request-changes verdict (comments do not change a verdict).</summary>
    public static IReadOnlyList<Review> LatestVerdicts(IEnumerable<Review> reviews) =>
        reviews.Where(r => r.Verdict != ReviewVerdict.Comment)
            .GroupBy(r => r.Reviewer, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.OrderBy(r => r.At).Last())
            .ToList();
}
