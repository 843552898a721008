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
/// policy (never the author, never an author of a commit); a refusal is a 403 naming the rule. A thin adapter over
/// <see cref="ChangeRequestCommands"/>, which holds those checks and writes the audit entries.
/// </summary>
public static class ChangeRequestsApi
{
    public static void MapChangeRequestsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/change-requests", async (string name, string? state, ChangeRequestCommands commands) =>
        {
            var (project, rows) = await commands.ListAsync(name, state);
            return rows.Select(r => ChangeRequestMapping.Summary(r, project.Name)).ToList();
        }).RequireAction(Actions.ChangeRequestRead);
        api.MapPost("/projects/{name}/change-requests", async (string name, OpenChangeRequestRequest? request, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) =>
        {
            var opened = ChangeRequestMapping.ToDto(await commands.OpenAsync(Actor.Of(context), name, request, ct), null);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/change-requests/{opened.Number}", opened);
        }).RequireAction(Actions.ChangeRequestWrite);
        api.MapGet("/projects/{name}/change-requests/{number}", async (string name, long number, string? strategy, ChangeRequestCommands commands,
            CancellationToken ct) =>
            ChangeRequestMapping.ToDto(await commands.FactsAsync(name, number, ct), string.IsNullOrEmpty(strategy) ? null : MergeStrategies.Parse(strategy)))
            .RequireAction(Actions.ChangeRequestRead);
        api.MapGet("/projects/{name}/change-requests/{number}/diff", async (string name, long number, ChangeRequestCommands commands, CancellationToken ct) =>
            Results.Text(await commands.DiffAsync(name, number, ct), "text/x-diff; charset=utf-8")).RequireAction(Actions.ChangeRequestRead);
        api.MapPost("/projects/{name}/change-requests/{number}/reviews", async (string name, long number, ReviewRequest? request, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) =>
            ChangeRequestMapping.ToDto(await commands.ReviewAsync(Actor.Of(context), name, number, request, ct), null))
            .RequireAction(Actions.ChangeRequestReview);
        api.MapPost("/projects/{name}/change-requests/{number}/merge", async (string name, long number, MergeRequest? request, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) =>
            ChangeRequestMapping.ToDto(await commands.MergeAsync(Actor.Of(context), name, number, request?.Strategy, ct), null))
            .RequireAction(Actions.ChangeRequestMerge);
        api.MapPost("/projects/{name}/change-requests/{number}/close", async (string name, long number, HttpContext context, ChangeRequestCommands commands,
            CancellationToken ct) =>
            ChangeRequestMapping.ToDto(await commands.SetStateAsync(Actor.Of(context), name, number, ChangeRequestState.Closed, ct), null))
            .RequireAction(Actions.ChangeRequestWrite);
        api.MapPost("/projects/{name}/change-requests/{number}/reopen", async (string name, long number, HttpContext context, ChangeRequestCommands commands,
            CancellationToken ct) =>
            ChangeRequestMapping.ToDto(await commands.SetStateAsync(Actor.Of(context), name, number, ChangeRequestState.Open, ct), null))
            .RequireAction(Actions.ChangeRequestWrite);
        // Auto-merge merges later in the setter's name, so it needs the merge permission, not just write.
        api.MapPut("/projects/{name}/change-requests/{number}/auto-merge", async (string name, long number, AutoMergeRequest? request, HttpContext context,
            ChangeRequestCommands commands, CancellationToken ct) =>
            ChangeRequestMapping.ToDto(await commands.AutoMergeAsync(Actor.Of(context), name, number, request, ct), null))
            .RequireAction(Actions.ChangeRequestMerge);
    }
}

