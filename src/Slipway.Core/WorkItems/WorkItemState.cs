namespace Slipway.Core.WorkItems;

/// <summary>
/// Where a work item is on its way from request to release. Never set by hand: derived by
/// <see cref="WorkItemStates.Derive"/> from what happened. Issue 4 parts 1–2 reach <see cref="InDevelopment"/>;
/// <see cref="InReview"/> and <see cref="Merged"/> arrive with change requests, <see cref="Released"/> with releases.
/// </summary>
public enum WorkItemState { Requested, InDevelopment, InReview, Merged, Released }

public enum WorkItemKind { Feature, Bug, Chore }

/// <summary>
/// What is known about one item. Facts a feature that is not built yet cannot know are null (change requests,
/// releases); null and "none" derive the same state, so the rule need not change when they arrive.
/// </summary>
/// <param name="Branches">Branches whose name names the item.</param>
/// <param name="Commits">Commits whose message names the item.</param>
/// <param name="OpenChangeRequests">Open change requests containing it (change requests: a later part).</param>
/// <param name="MergedChangeRequests">Merged change requests containing it.</param>
/// <param name="Release">The first release that contains it (releases: a later part).</param>
public sealed record WorkItemFacts(int Branches, int Commits, int? OpenChangeRequests = null, int? MergedChangeRequests = null, string? Release = null);

public static class WorkItemStates
{
    /// <summary>
    /// The furthest state the facts prove: released, else merged, else in review, else in development (a branch or
    /// commit names it), else requested. "Furthest" because facts accumulate: a merged item whose branch is
    /// later deleted stays merged, and a second open change request does not send a merged item back to review.
    /// </summary>
    public static WorkItemState Derive(WorkItemFacts facts)
    {
        if (facts.Release is not null) return WorkItemState.Released;
        if (facts.MergedChangeRequests > 0) return WorkItemState.Merged;
        if (facts.OpenChangeRequests > 0) return WorkItemState.InReview;
        if (facts.Branches > 0 || facts.Commits > 0) return WorkItemState.InDevelopment;
        return WorkItemState.Requested;
    }

    /// <summary>The wire and database name: <c>requested</c>, <c>in_development</c>, <c>in_review</c>, <c>merged</c>, <c>released</c>.</summary>
    public static string Name(this WorkItemState state) => state switch
    {
        WorkItemState.Requested => "requested",
        WorkItemState.InDevelopment => "in_development",
        WorkItemState.InReview => "in_review",
        WorkItemState.Merged => "merged",
        WorkItemState.Released => "released",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static readonly IReadOnlyList<WorkItemState> All = Enum.GetValues<WorkItemState>();

    public static WorkItemState? Parse(string? name) => All.Cast<WorkItemState?>().FirstOrDefault(s => s!.Value.Name() == name);
}

public static class WorkItemKinds
{
    public static string Name(this WorkItemKind kind) => kind.ToString().ToLowerInvariant();

    public static WorkItemKind? Parse(string? name) =>
        Enum.GetValues<WorkItemKind>().Cast<WorkItemKind?>().FirstOrDefault(k => k!.Value.Name() == name);
}
