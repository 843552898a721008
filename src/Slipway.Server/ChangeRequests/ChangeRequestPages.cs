using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.ChangeRequests;

using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Change request pages: a project's list with the "open" form, and one change request with its diff, runs,
/// reviews, the review form, the merge button (naming every unmet rule), close/reopen and auto-merge. Every form
/// runs the API's own handler (<see cref="ChangeRequestsApi"/>), so the segregation-of-duties policy, the merge
/// rules and the audit entries are the same whichever way a change request is handled.
/// </summary>
public static class ChangeRequestPages
{
    internal static void MapChangeRequestPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{name}/change-requests", async (string name, string? state, HttpContext context, ProjectStore projects,
            ChangeRequestStore store) =>
        {
            var list = await ChangeRequestsApi.ListAsync(name, state, projects, store);
            var project = await ProjectsApi.Find(projects, name);
            var branches = (await projects.BranchesAsync(project.Id)).Select(b => b.Name).Order(StringComparer.Ordinal).ToList();
            return Page<ChangeRequestsPage>(context, new { Project = project.ToDto(), ChangeRequests = list, State = state, Branches = branches });
        }).RequirePageAction(Actions.ChangeRequestRead);
        app.MapPost("/projects/{name}/change-requests/create", (string name, HttpContext context, ProjectStore projects, ChangeRequestService service,
            CancellationToken ct) => Act(context, ChangeRequestsPath(name), async form =>
        {
            var autoMerge = form["autoMerge"].ToString() is "on" or "true" ? Field(form, "strategy") ?? "merge" : null;
            var request = new OpenChangeRequestRequest(Field(form, "title"), Field(form, "description"), Field(form, "source"),
                Field(form, "target") is { Length: > 0 } target ? target : null, autoMerge);
            var opened = await ChangeRequestsApi.OpenAsync(name, request, context, projects, service, ct);
            return ($"Change request #{opened.Number} opened.", ChangeRequestPath(name, opened.Number));
        })).RequirePageAction(Actions.ChangeRequestWrite);

        app.MapGet("/projects/{name}/change-requests/{number:long}", async (string name, long number, string? strategy, HttpContext context,
            ProjectStore projects, ChangeRequestService service, CancellationToken ct) =>
        {
            var facts = await ChangeRequestsApi.FactsAsync(name, number, context, projects, service, ct);
            var dto = ChangeRequestsApi.ToDto(facts, string.IsNullOrEmpty(strategy) ? null : MergeStrategies.Parse(strategy));
            return Page<ChangeRequestPage>(context, new { ChangeRequest = dto, Diff = await service.DiffAsync(facts, ct) });
        }).RequirePageAction(Actions.ChangeRequestRead);
        app.MapPost("/projects/{name}/change-requests/{number:long}/review", (string name, long number, HttpContext context, ProjectStore projects,
            ChangeRequestService service, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async form =>
        {
            var request = new ReviewRequest(Field(form, "verdict"), Field(form, "comment"), Field(form, "overrideReason") is { Length: > 0 } r ? r : null);
            await ChangeRequestsApi.ReviewAsync(name, number, request, context, projects, service, ct);
            return request.Verdict switch
            {
                "approve" => $"You approved change request #{number}.",
                "request-changes" => $"You requested changes to change request #{number}.",
                _ => $"Your comment on change request #{number} is recorded.",
            };
        })).RequirePageAction(Actions.ChangeRequestReview);
        app.MapPost("/projects/{name}/change-requests/{number:long}/merge", (string name, long number, HttpContext context, ProjectStore projects,
            ChangeRequestService service, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async form =>
        {
            var merged = await ChangeRequestsApi.MergeAsync(name, number, new MergeRequest(Field(form, "strategy") is { Length: > 0 } s ? s : null),
                context, projects, service, ct);
            return $"Change request #{number} merged into {merged.Target} ({merged.MergeStrategy}) as {merged.MergeCommit?[..12]}.";
        })).RequirePageAction(Actions.ChangeRequestMerge);
        app.MapPost("/projects/{name}/change-requests/{number:long}/close", (string name, long number, HttpContext context, ProjectStore projects,
            ChangeRequestStore store, ChangeRequestService service, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async () =>
        {
            await ChangeRequestsApi.SetStateAsync(name, number, ChangeRequestState.Closed, context, projects, store, service, ct);
            return $"Change request #{number} closed.";
        })).RequirePageAction(Actions.ChangeRequestWrite);
        app.MapPost("/projects/{name}/change-requests/{number:long}/reopen", (string name, long number, HttpContext context, ProjectStore projects,
            ChangeRequestStore store, ChangeRequestService service, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async () =>
        {
            await ChangeRequestsApi.SetStateAsync(name, number, ChangeRequestState.Open, context, projects, store, service, ct);
            return $"Change request #{number} reopened.";
        })).RequirePageAction(Actions.ChangeRequestWrite);
        app.MapPost("/projects/{name}/change-requests/{number:long}/auto-merge", (string name, long number, HttpContext context,
            ProjectStore projects, ChangeRequestStore store, ChangeRequestService service, CancellationToken ct) =>
            Act(context, ChangeRequestPath(name, number), async form =>
            {
                var enabled = form["enabled"].ToString() is "true" or "on";
                var request = new AutoMergeRequest(enabled, enabled ? Field(form, "strategy") is { Length: > 0 } s ? s : "merge" : null);
                var changed = await ChangeRequestsApi.AutoMergeAsync(name, number, request, context, projects, store, service, ct);
                return changed.AutoMerge is { } how
                    ? $"Change request #{number} will merge by itself ({how}) once every rule holds."
                    : $"Auto-merge turned off on change request #{number}.";
            })).RequirePageAction(Actions.ChangeRequestMerge);
    }

    internal static string ChangeRequestsPath(string project) => $"/projects/{Uri.EscapeDataString(project)}/change-requests";

    internal static string ChangeRequestPath(string project, long number) => $"{ChangeRequestsPath(project)}/{number}";
}
