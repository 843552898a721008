using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.ChangeRequests;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Change requests of a project: /api/v1/projects/{name}/change-requests[/{number}[/diff|/reviews|/merge|/close|/reopen|/auto-merge]].
/// Every answer about one change request carries the rules that block its merge right now, so the UI's merge
/// button and <c>slipway cr merge</c> name each of them. Approving is checked against the segregation-of-duties
/// policy (never the author, never an author of a commit); a refusal is a 403 naming the rule.
/// </summary>
public static class ChangeRequestsApi
{
    public static void MapChangeRequestsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/change-requests", ListAsync).RequireAction(Actions.ChangeRequestRead);
        api.MapPost("/projects/{name}/change-requests", async (string name, OpenChangeRequestRequest? request, HttpContext context,
            ProjectStore projects, ChangeRequestService service, CancellationToken ct) =>
        {
            var opened = await OpenAsync(name, request, context, projects, service, ct);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/change-requests/{opened.Number}", opened);
        }).RequireAction(Actions.ChangeRequestWrite);
        api.MapGet("/projects/{name}/change-requests/{number}", ShowAsync).RequireAction(Actions.ChangeRequestRead);
        api.MapGet("/projects/{name}/change-requests/{number}/diff", DiffAsync).RequireAction(Actions.ChangeRequestRead);
        api.MapPost("/projects/{name}/change-requests/{number}/reviews", ReviewAsync).RequireAction(Actions.ChangeRequestReview);
        api.MapPost("/projects/{name}/change-requests/{number}/merge", MergeAsync).RequireAction(Actions.ChangeRequestMerge);
        api.MapPost("/projects/{name}/change-requests/{number}/close", (string name, long number, HttpContext context, ProjectStore projects,
            ChangeRequestStore store, ChangeRequestService service, CancellationToken ct) =>
                SetStateAsync(name, number, ChangeRequestState.Closed, context, projects, store, service, ct)).RequireAction(Actions.ChangeRequestWrite);
        api.MapPost("/projects/{name}/change-requests/{number}/reopen", (string name, long number, HttpContext context, ProjectStore projects,
            ChangeRequestStore store, ChangeRequestService service, CancellationToken ct) =>
                SetStateAsync(name, number, ChangeRequestState.Open, context, projects, store, service, ct)).RequireAction(Actions.ChangeRequestWrite);
        // Auto-merge merges later in the setter's name, so it needs the merge permission, not just write.
        api.MapPut("/projects/{name}/change-requests/{number}/auto-merge", AutoMergeAsync).RequireAction(Actions.ChangeRequestMerge);
    }

    public static async Task<IReadOnlyList<ChangeRequestSummaryDto>> ListAsync(string name, string? state, ProjectStore projects, ChangeRequestStore store)
    {
        if (!string.IsNullOrEmpty(state) && ChangeRequestTransitions.Parse(state) is null)
            throw new ArgumentException($"unknown state '{state}'; states are open, merged, closed");
        var project = await ProjectsApi.Find(projects, name);
        return (await store.ListAsync(project.Id, string.IsNullOrEmpty(state) ? null : state)).Select(r => Summary(r, project.Name)).ToList();
    }

    /// <summary>Opens a change request (and sets auto-merge when asked and allowed); the API and the web UI's form.</summary>
    public static async Task<ChangeRequestDto> OpenAsync(string name, OpenChangeRequestRequest? request, HttpContext context, ProjectStore projects,
        ChangeRequestService service, CancellationToken ct)
    {
        if (request is null) throw new ArgumentException("the body must be {\"title\", \"source\", \"target\"?, \"description\"?, \"autoMerge\"?}");
        var project = await ProjectsApi.Find(projects, name);
        var user = context.RequireUser();
        MergeStrategy? autoMerge = request.AutoMerge is null ? null : MergeStrategies.Parse(request.AutoMerge);
        if (autoMerge is not null && !user.Permissions.CanOnProject(Actions.ChangeRequestMerge, project.Name))
            throw new PolicyRefusedException($"{user.Username} may not merge in '{project.Name}', so cannot set a change request to merge by itself");
        var row = await service.OpenAsync(project, user.Username, request.Title, request.Description, request.Source, request.Target, ct);
        await context.AuditAsync(Actions.ChangeRequestWrite, AuditOutcomes.Succeeded, Target(name, row.Number),
            $"change request #{row.Number} opened: {row.SourceBranch} into {row.TargetBranch} at {row.HeadSha[..12]}: {row.Title}");
        if (autoMerge is { } strategy)
        {
            await service.SetAutoMergeAsync(row, user.Username, strategy);
            await context.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Succeeded, Target(name, row.Number),
                $"auto-merge ({strategy.Name()}) set on change request #{row.Number}");
        }
        var facts = await service.GatherAsync(project, (await FindAsync(context, project, row.Number))!, ct: ct);
        return ToDto(facts, null);
    }

    /// <summary>One change request with its commits, files, runs, reviews, items and unmet rules (the API and the web UI's page).</summary>
    public static async Task<ChangeRequestDto> ShowAsync(string name, long number, string? strategy, HttpContext context, ProjectStore projects,
        ChangeRequestService service, CancellationToken ct) =>
        ToDto(await FactsAsync(name, number, context, projects, service, ct), string.IsNullOrEmpty(strategy) ? null : MergeStrategies.Parse(strategy));

    /// <summary>Everything about one change request as it is now (no fetch); 404 for an unknown project or number.</summary>
    public static async Task<ChangeRequestFacts> FactsAsync(string name, long number, HttpContext context, ProjectStore projects,
        ChangeRequestService service, CancellationToken ct)
    {
        var project = await ProjectsApi.Find(projects, name);
        var row = await FindAsync(context, project, number) ?? throw NotFound(name, number);
        return await service.GatherAsync(project, row, ct: ct);
    }

    private static async Task<IResult> DiffAsync(string name, long number, HttpContext context, ProjectStore projects, ChangeRequestService service,
        CancellationToken ct)
    {
        var diff = await service.DiffAsync(await FactsAsync(name, number, context, projects, service, ct), ct);
        return Results.Text(diff, "text/x-diff; charset=utf-8");
    }

    public static async Task<ChangeRequestDto> ReviewAsync(string name, long number, ReviewRequest? request, HttpContext context, ProjectStore projects,
        ChangeRequestService service, CancellationToken ct)
    {
        var verdict = Reviews.Parse(request?.Verdict);
        var project = await ProjectsApi.Find(projects, name);
        var row = await FindAsync(context, project, number) ?? throw NotFound(name, number);
        var facts = await service.GatherAsync(project, row, fetch: true, ct);
        var user = context.RequireUser().Username;
        ChangeRequestTransitions.EnsureOpen(row.Subject, row.StateValue, "review");
        await PolicyGate.EnforceAsync(context, Reviews.MayGive(user, verdict, row.Author, facts.CommitAuthors), request!.OverrideReason, Target(name, number));
        await service.AddReviewAsync(facts, user, verdict, request.Comment);
        await context.AuditAsync(Actions.ChangeRequestReview, AuditOutcomes.Succeeded, Target(name, number),
            $"{verdict.Name()} on change request #{number} at {facts.SourceHead![..12]}");
        return ToDto(await service.GatherAsync(project, (await FindAsync(context, project, number))!, ct: ct), null);
    }

    public static async Task<ChangeRequestDto> MergeAsync(string name, long number, MergeRequest? request, HttpContext context, ProjectStore projects,
        ChangeRequestService service, CancellationToken ct)
    {
        MergeStrategy? strategy = request?.Strategy is null ? null : MergeStrategies.Parse(request.Strategy);
        var project = await ProjectsApi.Find(projects, name);
        var user = context.RequireUser().Username;
        try
        {
            var (row, facts) = await service.MergeAsync(project, number, user, strategy, ct);
            await context.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Succeeded, Target(name, number),
                $"change request #{number} merged ({row.MergeStrategy}) into {row.TargetBranch} as {row.MergeCommit![..12]}");
            return ToDto(facts, null);
        }
        catch (Exception e) when (e is MergeBlockedException or ConflictException or ChangeRequestTransitionException)
        {
            await context.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Failed, Target(name, number), e.Message);
            throw;
        }
    }

    public static async Task<ChangeRequestDto> SetStateAsync(string name, long number, ChangeRequestState to, HttpContext context,
        ProjectStore projects, ChangeRequestStore store, ChangeRequestService service, CancellationToken ct)
    {
        var project = await ProjectsApi.Find(projects, name);
        var row = await store.FindAsync(project.Id, number) ?? throw NotFound(name, number);
        var user = context.RequireUser().Username;
        var changed = await service.SetStateAsync(project, row, to, user);
        await context.AuditAsync(Actions.ChangeRequestWrite, AuditOutcomes.Succeeded, Target(name, number),
            $"change request #{number} {(to == ChangeRequestState.Closed ? "closed" : "reopened")}");
        return ToDto(await service.GatherAsync(project, changed, ct: ct), null);
    }

    public static async Task<ChangeRequestDto> AutoMergeAsync(string name, long number, AutoMergeRequest? request, HttpContext context,
        ProjectStore projects, ChangeRequestStore store, ChangeRequestService service, CancellationToken ct)
    {
        if (request is null) throw new ArgumentException("the body must be {\"enabled\": true, \"strategy\": \"merge\"}");
        var project = await ProjectsApi.Find(projects, name);
        var row = await store.FindAsync(project.Id, number) ?? throw NotFound(name, number);
        var user = context.RequireUser().Username;
        MergeStrategy? strategy = request.Enabled ? MergeStrategies.Parse(request.Strategy ?? "merge") : null;
        await service.SetAutoMergeAsync(row, request.Enabled ? user : null, strategy);
        await context.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Succeeded, Target(name, number),
            strategy is { } s ? $"auto-merge ({s.Name()}) set on change request #{number}" : $"auto-merge turned off on change request #{number}");
        return ToDto(await service.GatherAsync(project, (await store.FindAsync(project.Id, number))!, ct: ct), null);
    }

    private static Task<ChangeRequestRow?> FindAsync(HttpContext context, ProjectRow project, long number) =>
        context.RequestServices.GetRequiredService<ChangeRequestStore>().FindAsync(project.Id, number);

    private static KeyNotFoundException NotFound(string project, long number) => new($"project '{project}' has no change request {number}");

    private static string Target(string project, long number) => $"project:{project} cr:{number}";

    public static ChangeRequestSummaryDto Summary(ChangeRequestRow r, string project) =>
        new(project, r.Number, r.Title, r.SourceBranch, r.TargetBranch, r.Author, r.State, r.HeadSha, UnixMs.To(r.CreatedAt), UnixMs.To(r.UpdatedAt),
            r.MergedBy, UnixMs.To(r.MergedAt), r.AutoMergeStrategy);

    public static MergeRulesDto Rules(string branch, MergeRules rules, string? by = null, long? at = null) =>
        new(branch, rules.RequiredApprovals, rules.DismissStaleApprovals, by, UnixMs.To(at));

    public static ChangeRequestDto ToDto(ChangeRequestFacts f, MergeStrategy? strategy)
    {
        var r = f.Row;
        var how = strategy ?? f.DefaultStrategy;
        var authors = f.CommitAuthors.ToDictionary(c => c.Sha, c => c.AuthorUser);
        return new ChangeRequestDto(f.Project.Name, r.Number, r.Title, r.Description, r.SourceBranch, r.TargetBranch, r.Author, r.State,
            f.SourceHead, f.TargetHead, UnixMs.To(r.CreatedAt), UnixMs.To(r.UpdatedAt),
            r.MergedBy, UnixMs.To(r.MergedAt), r.MergeCommit, r.MergeStrategy, r.ClosedBy, UnixMs.To(r.ClosedAt),
            r.AutoMergeStrategy, r.AutoMergeBy, r.AutoMergeError, r.WarningList,
            f.Commits.Select(x => new ChangeRequestCommitDto(x.Sha, x.AuthorName, x.AuthorEmail, authors.GetValueOrDefault(x.Sha),
                UnixMs.To(x.AuthoredAt), x.Subject)).ToList(),
            f.Files.Select(x => new ChangedFileDto(x.Path, x.Added, x.Deleted)).ToList(),
            f.Merge?.ConflictingFiles ?? [],
            f.HeadRuns.Select(x => x.ToSummary()).ToList(),
            f.Reviews.Select(x => new ReviewDto(x.Reviewer, x.Verdict, x.Comment, x.HeadSha, UnixMs.To(x.At),
                MergeCheck.IsDismissed(x.ToReview(), f.SourceHead ?? r.HeadSha, f.Rules))).ToList(),
            f.Items.Select(i => new ReleaseItemDto(i.Key, i.Title, i.Kind)).ToList(),
            Rules(r.TargetBranch, f.Rules), how.Name(),
            r.StateValue == ChangeRequestState.Open ? f.Unmet(how).Select(u => new UnmetRuleDto(u.Rule, u.Message)).ToList() : []);
    }
}
