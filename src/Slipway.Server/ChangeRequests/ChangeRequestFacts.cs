using Slipway.Core.ChangeRequests;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Everything known about one change request right now: its row, the heads of both branches, the commits and
/// files it adds, whether it merges cleanly, the runs of its head commit, reviews, linked items and the target's
/// rules, and the merge facts the rules are judged on. Gathered by <see cref="ChangeRequestService.GatherAsync"/>.
/// For a merged or closed change request whose branch is gone, the commit lists are empty.
/// </summary>
public sealed record ChangeRequestFacts(
    ProjectRow Project,
    ChangeRequestRow Row,
    string? SourceHead,
    string? TargetHead,
    IReadOnlyList<CommitInfo> Commits,
    IReadOnlyList<ChangeCommit> CommitAuthors,
    IReadOnlyList<ChangedFile> Files,
    MergeResult? Merge,
    IReadOnlyList<RunRow> HeadRuns,
    IReadOnlyList<ReviewRow> Reviews,
    IReadOnlyList<ReleaseItemRow> Items,
    MergeRules Rules,
    MergeFacts MergeFacts)
{
    /// <summary>The strategy the rules are evaluated for when none is named: the one auto-merge will use, else a merge commit.</summary>
    public MergeStrategy DefaultStrategy =>
        Row.AutoMergeStrategy is { } s ? MergeStrategies.Parse(s) : MergeStrategy.Merge;

    public IReadOnlyList<UnmetRule> Unmet(MergeStrategy strategy) => MergeCheck.Evaluate(MergeFacts, Rules, strategy);
}

/// <summary>A merge refused because rules are unmet; the message lists every one. Answered with 409.</summary>
public sealed class MergeBlockedException(string subject, IReadOnlyList<UnmetRule> unmet)
    : Exception($"cannot merge {subject}: {unmet.Count} rule{(unmet.Count == 1 ? "" : "s")} not met: " + string.Join("; ", unmet))
{
    public IReadOnlyList<UnmetRule> Unmet { get; } = unmet;
}
