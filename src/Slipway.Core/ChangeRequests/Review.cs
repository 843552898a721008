using Slipway.Core.Policies;

namespace Slipway.Core.ChangeRequests;

/// <summary>A review's verdict. A comment-only review neither approves nor blocks.</summary>
public enum ReviewVerdict { Approve, RequestChanges, Comment }

/// <summary>One review as given: who, what, on which head commit, when (unix ms).</summary>
public sealed record Review(string Reviewer, ReviewVerdict Verdict, string HeadSha, long At);

/// <summary>A commit of the change and the Slipway user who wrote it (null when its author matches no user).</summary>
public sealed record ChangeCommit(string Sha, string? AuthorUser);

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
    /// opened or one containing a commit they wrote (the segregation-of-duties rule actor-not-author). Requesting
    /// changes and commenting are open to everyone who may review.
    /// </summary>
    public static PolicyDecision MayGive(string reviewer, ReviewVerdict verdict, string author, IReadOnlyList<ChangeCommit> commits)
    {
        if (verdict != ReviewVerdict.Approve) return PolicyDecision.Allow;
        var own = Policy.ActorIsNotAuthor(reviewer, [author], "this change request (opened it)");
        if (own is PolicyDecision.Refused) return own;
        var written = commits.FirstOrDefault(c => c.AuthorUser is not null && string.Equals(c.AuthorUser, reviewer, StringComparison.OrdinalIgnoreCase));
        return written is null
            ? PolicyDecision.Allow
            : Policy.ActorIsNotAuthor(reviewer, [written.AuthorUser!], $"commit {written.Sha[..Math.Min(12, written.Sha.Length)]} of this change request");
    }

    /// <summary>Each reviewer's latest approve or request-changes verdict (comments do not change a verdict).</summary>
    public static IReadOnlyList<Review> LatestVerdicts(IEnumerable<Review> reviews) =>
        reviews.Where(r => r.Verdict != ReviewVerdict.Comment)
            .GroupBy(r => r.Reviewer, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.OrderBy(r => r.At).Last())
            .ToList();
}
