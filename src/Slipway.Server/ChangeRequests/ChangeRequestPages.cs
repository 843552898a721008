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
            ChangeRequestCommands commands) =>
        {
            var (project, rows) = await commands.ListAsync(name, state);
            var list = rows.Select(r => ChangeRequestMapping.Summary(r, project.Name)).ToList();
            var branches = (await projects.BranchesAsync(project.Id)).Select(b => b.Name).Order(StringComparer.Ordinal).ToList();
            return Page<ChangeRequestsPage>(context, new { Project = project.ToDto(), ChangeRequests = list, State = state, Branches = branches });
        }).RequirePageAction(Actions.ChangeRequestRead);
        app.MapPost("/projects/{name}/change-requests/create", (string name, HttpContext context, ChangeRequestCommands commands, CancellationToken ct) => Act(context, ChangeRequestsPath(name), async form =>
        {
            var autoMerge = Checked(form, "autoMerge") ? Field(form, "strategy") ?? "merge" : null;
            var request = new OpenChangeRequestRequest(Field(form, "title"), Field(form, "description"), Field(form, "source"),
                Field(form, "target") is { Length: > 0 } target ? target : null, autoMerge);
            var opened = await commands.OpenAsync(Actor.Of(context), name, request, ct);
            return ($"Change request #{opened.Row.Number} opened.", ChangeRequestPath(name, opened.Row.Number));
        })).RequirePageAction(Actions.ChangeRequestWrite);

        app.MapGet("/projects/{name}/change-requests/{number:long}", async (string name, long number, string? strategy, HttpContext context,
            ChangeRequestCommands commands, ChangeRequestService service, CancellationToken ct) =>
        {
            var facts = await commands.FactsAsync(name, number, ct);
            var dto = ChangeRequestMapping.ToDto(facts, string.IsNullOrEmpty(strategy) ? null : MergeStrategies.Parse(strategy));
            return Page<ChangeRequestPage>(context, new { ChangeRequest = dto, Diff = await service.DiffAsync(facts, ct) });
        }).RequirePageAction(Actions.ChangeRequestRead);
        app.MapPost("/projects/{name}/change-requests/{number:long}/review", (string name, long number, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async form =>
        {
            var request = new ReviewRequest(Field(form, "verdict"), Field(form, "comment"), Field(form, "overrideReason") is { Length: > 0 } r ? r : null);
            await commands.ReviewAsync(Actor.Of(context), name, number, request, ct);
            return request.Verdict switch
            {
                "approve" => $"You approved change request #{number}.",
                "request-changes" => $"You requested changes to change request #{number}.",
                _ => $"Your comment on change request #{number} is recorded.",
            };
        })).RequirePageAction(Actions.ChangeRequestReview);
        app.MapPost("/projects/{name}/change-requests/{number:long}/merge", (string name, long number, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async form =>
        {
            var merged = (await commands.MergeAsync(Actor.Of(context), name, number, Field(form, "strategy") is { Length: > 0 } s ? s : null, ct)).Row;
            return $"Change request #{number} merged into {merged.TargetBranch} ({merged.MergeStrategy}) as {merged.MergeCommit?[..12]}.";
        })).RequirePageAction(Actions.ChangeRequestMerge);
        app.MapPost("/projects/{name}/change-requests/{number:long}/close", (string name, long number, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async () =>
        {
            await commands.SetStateAsync(Actor.Of(context), name, number, ChangeRequestState.Closed, ct);
            return $"Change request #{number} closed.";
        })).RequirePageAction(Actions.ChangeRequestWrite);
        app.MapPost("/projects/{name}/change-requests/{number:long}/reopen", (string name, long number, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) => Act(context, ChangeRequestPath(name, number), async () =>
        {
            await commands.SetStateAsync(Actor.Of(context), name, number, ChangeRequestState.Open, ct);
            return $"Change request #{number} reopened.";
        })).RequirePageAction(Actions.ChangeRequestWrite);
        app.MapPost("/projects/{name}/change-requests/{number:long}/auto-merge", (string name, long number, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) =>
            Act(context, ChangeRequestPath(name, number), async form =>
            {
                var enabled = form["enabled"].ToString() is "true" or "on";
                var request = new AutoMergeRequest(enabled, enabled ? Field(form, "strategy") is { Length: > 0 } s ? s : "merge" : null);
                var changed = (await commands.AutoMergeAsync(Actor.Of(context), name, number, request, ct)).Row;
                return changed.AutoMergeStrategy is { } how
                    ? $"Change request #{number} will merge by itself ({how}) once every rule holds."
                    : $"Auto-merge turned off on change request #{number}.";
            })).RequirePageAction(Actions.ChangeRequestMerge);
    }

    internal static string ChangeRequestsPath(string project) => $"/projects/{Uri.EscapeDataString(project)}/change-requests";

    internal static string ChangeRequestPath(string project, long number) => $"{ChangeRequestsPath(project)}/{number}";
}
