using Slipway.Core.Policies;

namespace Slipway.Core.ChangeRequests;

/// <summary>The status of the newest run of the change's head commit, as far as merging cares.</summary>
public enum HeadPipeline { None, Running, Failed, Succeeded }

/// <summary>
/// Everything the merge rules are judged on, read by the server just before it decides.
/// </summary>
/// <param name="Author">Who opened the change request.</param>
/// <param name="Commits">The commits on the source branch that the target lacks (newest first).</param>
/// <param name="ConflictingFiles">Files a merge would conflict in; empty when it merges cleanly.</param>
/// <param name="TargetIsAncestor">True when the target head is an ancestor of the source head (fast-forward possible).</param>
public sealed record MergeFacts(
    ChangeRequestState State,
    string Author,
    string HeadSha,
    IReadOnlyList<ChangeCommit> Commits,
    IReadOnlyList<Review> Reviews,
    HeadPipeline Pipeline,
    IReadOnlyList<string> ConflictingFiles,
    bool TargetIsAncestor);

/// <summary>One merge rule that does not hold: its id (stable, for scripts and the UI) and why.</summary>
public sealed record UnmetRule(string Rule, string Message)
{
    public override string ToString() => $"{Rule}: {Message}";
}

/// <summary>
/// Decides whether a change request may merge: every rule is checked and every unmet one returned, so the merge
/// button and <c>slipway cr merge</c> list them all at once. Pure: the server gathers <see cref="MergeFacts"/>.
/// </summary>
public static class MergeCheck
{
    public const string Open = "open";
    public const string HasChanges = "has-changes";
    public const string Approvals = "approvals";
    public const string NoChangesRequested = "no-changes-requested";
    public const string GreenPipeline = "green-pipeline";
    public const string NoConflicts = "no-conflicts";
    public const string FastForwardPossible = "fast-forward-possible";

    public static IReadOnlyList<UnmetRule> Evaluate(MergeFacts facts, MergeRules rules, MergeStrategy strategy)
    {
        var unmet = new List<UnmetRule>();
        if (facts.State != ChangeRequestState.Open)
            unmet.Add(new(Open, $"the change request is {facts.State.Name()}"));
        if (facts.Commits.Count == 0)
            unmet.Add(new(HasChanges, "the source branch has no commits the target lacks"));

        var (counted, ignored) = CountedApprovals(facts, rules);
        if (Policy.DistinctApprovers(counted.Select(r => new Approval(r.Reviewer, new HashSet<string>(), DateTimeOffset.FromUnixTimeMilliseconds(r.At), null)).ToList(), rules.RequiredApprovals, null) is PolicyDecision.Refused refused)
            unmet.Add(new(Approvals, refused.Message + Explain(ignored)));

        var blocking = Reviews.LatestVerdicts(facts.Reviews).Where(r => r.Verdict == ReviewVerdict.RequestChanges).Select(r => r.Reviewer).ToList();
        if (blocking.Count > 0)
            unmet.Add(new(NoChangesRequested, $"changes requested by {string.Join(", ", blocking)} (they approve once satisfied)"));

        if (facts.Pipeline != HeadPipeline.Succeeded)
            unmet.Add(new(GreenPipeline, facts.Pipeline switch
            {
                HeadPipeline.None => $"no run of the head commit {Short(facts.HeadSha)} yet",
                HeadPipeline.Running => $"the run of the head commit {Short(facts.HeadSha)} has not finished",
                _ => $"the run of the head commit {Short(facts.HeadSha)} did not succeed",
            }));

        if (facts.ConflictingFiles.Count > 0 && strategy != MergeStrategy.FastForward)
            unmet.Add(new(NoConflicts, $"merging conflicts in {string.Join(", ", facts.ConflictingFiles.Take(20))}{(facts.ConflictingFiles.Count > 20 ? $" and {facts.ConflictingFiles.Count - 20} more" : "")}"));
        if (strategy == MergeStrategy.FastForward && !facts.TargetIsAncestor)
            unmet.Add(new(FastForwardPossible, "the target branch has moved since the source branched from it; rebase, or merge with another strategy"));
        return unmet;
    }

    /// <summary>
    /// The approvals that count: each reviewer's latest verdict is approve, given on the current head when stale
    /// approvals are dismissed, by someone who is neither the author nor (any longer) an author of one of the commits.
    /// Also returns why the others were not counted, for the message.
    /// </summary>
    public static (IReadOnlyList<Review> Counted, IReadOnlyList<string> Ignored) CountedApprovals(MergeFacts facts, MergeRules rules)
    {
        var counted = new List<Review>();
        var ignored = new List<string>();
        foreach (var review in Reviews.LatestVerdicts(facts.Reviews).Where(r => r.Verdict == ReviewVerdict.Approve))
        {
            if (rules.DismissStaleApprovals && review.HeadSha != facts.HeadSha)
                ignored.Add($"{review.Reviewer}'s approval was for {Short(review.HeadSha)} and new commits were pushed since");
            else if (Reviews.MayGive(review.Reviewer, ReviewVerdict.Approve, facts.Author, facts.Commits) is PolicyDecision.Refused r)
                ignored.Add(r.Message);
            else
                counted.Add(review);
        }
        return (counted, ignored);
    }

    /// <summary>True for an approval that no longer counts because new commits arrived after it.</summary>
    public static bool IsDismissed(Review review, string headSha, MergeRules rules) =>
        review.Verdict == ReviewVerdict.Approve && rules.DismissStaleApprovals && review.HeadSha != headSha;

    private static string Explain(IReadOnlyList<string> ignored) => ignored.Count == 0 ? "" : " (not counted: " + string.Join("; ", ignored) + ")";

    private static string Short(string sha) => sha[..Math.Min(12, sha.Length)];
}
