using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.ChangeRequests;
using Slipway.Core.Environments;
using Slipway.Core.Releases;
using Slipway.Core.WorkItems;

namespace Slipway.Server.WorkItems;

/// <summary>
/// A project's environments in lifecycle order, all its deployments and which of its releases contain which, read once for
/// one item or a whole board.
/// </summary>
/// <param name="ItemReleases">For each work item, the releases naming it.</param>
public sealed record ProjectDeployments(IReadOnlyList<string> Environments, IReadOnlyList<DeploymentRow> Rows, ReleaseLineage Lineage,
    IReadOnlyDictionary<long, IReadOnlyList<long>> ItemReleases)
{
    private readonly Dictionary<string, IReadOnlySet<long>> _containing = [];

    public IReadOnlyList<JourneyDeployment> Journey { get; } =
        Rows.Select(d => new JourneyDeployment(d.Id, d.Environment, d.ReleaseId, d.State, d.FinishedAt)).ToList();

    /// <summary>
    /// The releases containing the item: those naming it (its first, and a line it was cherry-picked to) and every release
    /// descending from one of them. Asked once per set of naming releases on a board (most items share them).
    /// </summary>
    public IReadOnlySet<long> Containing(WorkItemRow item)
    {
        var named = (ItemReleases.GetValueOrDefault(item.Id) ?? []).Concat(item.ReleaseId is { } first ? [first] : []).Distinct().Order().ToList();
        var key = string.Join(',', named);
        lock (_containing)
        {
            if (!_containing.TryGetValue(key, out var set)) _containing[key] = set = Lineage.Containing(named);
            return set;
        }
    }

    public ItemJourney JourneyOf(WorkItemRow item) =>
        WorkItemJourneys.Derive(item.State, item.ReleaseId is not null ? Containing(item).Contains : null, Environments, Journey);
}

/// <summary>
/// Gathers the facts for an item's whole story after it was written down: the change requests naming it with their
/// reviews, the releases containing it, and every deployment that brought it to an environment or took it away, with
/// who requested and who approved each. What those facts mean (where the item is now) is decided in Core
/// (<see cref="WorkItemJourneys"/>). Reads only; thread-safe.
/// </summary>
public sealed class WorkItemStory(ReleaseStore releases, DeploymentStore deployments, EnvironmentStore environments, ChangeRequestStore changeRequests,
    GateStore gates, ServerOptions options)
{
    public async Task<ProjectDeployments> DeploymentsAsync(long projectId)
    {
        var lifecycle = Lifecycle.Ordered((await environments.ListAsync(projectId)).Select(e => e.Settings)).Select(e => e.Name).ToList();
        var lineage = new ReleaseLineage((await releases.LineageAsync(projectId)).Select(r => new LineageRelease(r.Id, r.Parents)));
        return new ProjectDeployments(lifecycle, await deployments.ListAsync(projectId, limit: int.MaxValue), lineage, await releases.ItemReleasesAsync(projectId));
    }

    /// <summary>The item with its stage, change requests, releases, deployments, environments and deployment events.</summary>
    public async Task<WorkItemDto> TellAsync(WorkItemDto item, WorkItemRow row)
    {
        var project = await DeploymentsAsync(row.ProjectId);
        var journey = project.JourneyOf(row);
        var changeRequests = await ChangeRequestsAsync(row.Id);
        item = item with
        {
            Stage = journey.Stage, StageEnvironment = journey.StageEnvironment, StageLabel = journey.Label,
            ChangeRequests = changeRequests, Releases = [], Deployments = [], Environments = [],
            Timeline = [.. (item.Timeline ?? []).Concat(changeRequests.SelectMany(ReviewEvents)).OrderBy(e => e.At)],
        };
        if (row.ReleaseId is not { } first) return item;

        var byId = project.Rows.ToDictionary(d => d.Id);
        var deciding = journey.Environments.Select(e => e.DeploymentId).ToHashSet();
        var contains = project.Containing(row);
        var shown = project.Rows.Where(d => contains.Contains(d.ReleaseId) || deciding.Contains(d.Id)).OrderBy(d => d.Id).ToList();
        var approvals = await deployments.ApprovalsAsync(shown.Select(d => d.Id).ToList());
        var events = WorkItemJourneys.Moves(contains.Contains, project.Journey).Select(m => Event(byId[m.Deployment.Id], m.Arrived)).ToList();
        // Every release carrying the item, read at once: an old item of a long history is carried by hundreds. The first few
        // later ones are told one by one, the rest in one line (LaterReleases).
        var carrying = shown.Where(d => contains.Contains(d.ReleaseId)).Select(d => d.ReleaseId).Prepend(first).Distinct().ToList();
        var (told, folded) = LaterReleases.Split(first, carrying, options.TimelineLaterReleases);
        // A later release carrying it that reached an environment where the item already was: not a move, but part of the story.
        var moved = events.Select(e => e.Deployment).ToHashSet();
        events.AddRange(shown.Where(d => told.Contains(d.ReleaseId) && d.State == "succeeded" && d.FinishedAt is not null && !moved.Contains(d.Number))
            .Select(d => new WorkItemEventDto("carried", $"{d.Environment} {d.Version}", d.RunId, null, null, d.Initiator, UnixMs.To(d.FinishedAt!.Value), d.Number)));
        var releaseRows = await releases.GetManyAsync(carrying);
        var signOffs = await gates.SignOffsAsync(carrying);
        // Sign-offs of the releases carrying the item mark it: a rejection says the item was not accepted as built.
        foreach (var releaseId in carrying)
        {
            var version = releaseRows.GetValueOrDefault(releaseId)?.Version;
            events.AddRange(signOffs[releaseId].Select(s => new WorkItemEventDto(s.Accepted ? "signoff_accepted" : "signoff_rejected",
                $"{s.Kind} of {version} on {s.Environment}" + (s.Notes.Length > 0 ? $": {s.Notes}" : ""), null, null, null, s.SignedBy, UnixMs.To(s.SignedAt))));
        }
        // The later releases carrying it (the first is in the item's links), and who approved or rejected each deployment of them.
        events.AddRange(told.Where(releaseRows.ContainsKey).Select(id => releaseRows[id])
            .Select(r => new WorkItemEventDto("later_release", r.Version, r.RunId, (int)r.RunNumber, null, r.CreatedBy, UnixMs.To(r.CreatedAt))));
        if (folded.Where(releaseRows.ContainsKey).Select(id => releaseRows[id]).ToList() is { Count: > 0 } more)
            events.Add(new WorkItemEventDto("later_releases_folded", more.Count == 1 ? more[0].Version : $"{more[0].Version} to {more[^1].Version}", null, null, null, null,
                UnixMs.To(more[0].CreatedAt), Detail: $"{more.Count}"));
        foreach (var d in shown.Where(d => d.ReleaseId == first || told.Contains(d.ReleaseId) || (contains.Contains(d.ReleaseId) && moved.Contains(d.Number))))
            events.AddRange(approvals[d.Id].Select(a => new WorkItemEventDto(a.Verdict == "approve" ? "deployment_approved" : "deployment_rejected",
                $"{d.Environment} {d.Version}", null, null, null, a.Approver, UnixMs.To(a.At), d.Number, a.Comment.Length > 0 ? Short(a.Comment) : null)));
        return item with
        {
            Timeline = [.. (item.Timeline ?? []).Concat(events).OrderBy(e => e.At)],
            Environments = journey.Environments.Select(e => Where(e, byId[e.DeploymentId])).ToList(),
            Deployments = shown.Select(d => new ItemDeploymentDto(d.Number, d.Environment, d.Version, d.Kind, d.State, d.Initiator,
                UnixMs.To(d.RequestedAt), UnixMs.To(d.FinishedAt), contains.Contains(d.ReleaseId),
                approvals[d.Id].Select(a => new DeploymentApprovalDto(a.Approver, a.Verdict, a.Comment, UnixMs.To(a.At))).ToList())).ToList(),
            Releases = Releases(first, carrying, releaseRows),
        };
    }

    /// <summary>
    /// The story as one reader may see it: reading an item (item.read) shows where it stands, but the change requests and
    /// their reviews need cr.read, the releases and sign-offs release.read, the deployments and their approvals
    /// deployment.read, as on their own pages (a custom role, or a token scoped to item.read for a tracker's sync).
    /// </summary>
    public static WorkItemDto AsSeenBy(WorkItemDto item, Func<string, bool> may)
    {
        var (changes, releases, deployments) = (may(Actions.ChangeRequestRead), may(Actions.ReleaseRead), may(Actions.DeploymentRead));
        var hidden = new HashSet<string>(StringComparer.Ordinal);
        if (!changes) hidden.UnionWith(["change_request", "change_request_merged", "review"]);
        if (!releases) hidden.UnionWith(["release", "later_release", "later_releases_folded", "signoff_accepted", "signoff_rejected"]);
        if (!deployments) hidden.UnionWith(["deployed", "carried", "rolled_back", "deployment_approved", "deployment_rejected"]);
        return item with
        {
            ChangeRequests = changes ? item.ChangeRequests : [],
            Releases = releases ? item.Releases : [],
            Deployments = deployments ? item.Deployments : [],
            Timeline = item.Timeline?.Where(e => !hidden.Contains(e.Kind)).ToList(),
        };
    }

    /// <summary>The first release containing the item, then the later ones that were deployed anywhere, oldest first.</summary>
    private static IReadOnlyList<ItemReleaseDto> Releases(long first, IEnumerable<long> carrying, IReadOnlyDictionary<long, ReleaseRow> rows) =>
        carrying.Order().Where(rows.ContainsKey).Select(id => rows[id])
            .Select(r => new ItemReleaseDto(r.Version, UnixMs.To(r.CreatedAt), r.CreatedBy, r.Id == first)).ToList();

    private async Task<IReadOnlyList<ItemChangeRequestDto>> ChangeRequestsAsync(long itemId)
    {
        var list = new List<ItemChangeRequestDto>();
        foreach (var cr in await changeRequests.ForItemAsync(itemId))
        {
            var rules = await changeRequests.RulesAsync(cr.ProjectId, cr.TargetBranch);
            var reviews = (await changeRequests.ReviewsAsync(cr.Id)).Select(x => new ReviewDto(x.Reviewer, x.Verdict, x.Comment, x.HeadSha,
                UnixMs.To(x.At), MergeCheck.IsDismissed(x.ToReview(), cr.HeadSha, rules))).ToList();
            list.Add(new ItemChangeRequestDto(cr.Number, cr.Title, cr.State, cr.SourceBranch, cr.TargetBranch, cr.Author, cr.MergedBy,
                UnixMs.To(cr.MergedAt), reviews));
        }
        return list;
    }

    /// <summary>Each review of a change request naming the item: Ref is the change request's number, Detail the verdict and comment.</summary>
    private static IEnumerable<WorkItemEventDto> ReviewEvents(ItemChangeRequestDto cr) =>
        cr.Reviews.Select(r => new WorkItemEventDto("review", cr.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), null, null, null,
            r.Reviewer, r.At, null, ReviewDetail(r)));

    private static string ReviewDetail(ReviewDto r) =>
        (r.Verdict switch { "approve" => "approved", "request-changes" => "requested changes", _ => "commented" })
        + (r.Dismissed ? " (dismissed by a later push)" : "") + (r.Comment.Length > 0 ? $": {Short(r.Comment)}" : "");

    /// <summary>A comment as the timeline shows it: its first 200 characters (the change request's page has it whole).</summary>
    private static string Short(string text) =>
        text.Length <= 200 ? text : text[..(char.IsHighSurrogate(text[199]) ? 199 : 200)] + "…"; // never half of a surrogate pair

    private static WorkItemEventDto Event(DeploymentRow d, bool arrived) => arrived
        ? new("deployed", $"{d.Environment} {d.Version}{(d.State == "succeeded" ? "" : $" ({d.State})")}", d.RunId, null, null, d.Initiator,
            UnixMs.To(d.FinishedAt!.Value), d.Number)
        : new("rolled_back", $"{d.Environment} {d.Version}", d.RunId, null, null, d.Initiator, UnixMs.To(d.FinishedAt!.Value), d.Number);

    private static ItemEnvironmentDto Where(ItemEnvironmentStanding standing, DeploymentRow d) =>
        new(standing.Environment, d.Version, standing.Status.Name(), UnixMs.To(d.FinishedAt ?? d.RequestedAt), d.Initiator, d.Number);
}
