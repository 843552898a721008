using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.WorkItems;

namespace Slipway.Server.WorkItems;

/// <summary>
/// Work items of a project: /api/v1/projects/{name}/item-key, /items, /items/{number}. Items are addressed
/// by project and number (not by key alone) so the access check has the project from the route. The state in
/// every answer is derived from the item's links (<see cref="WorkItemStates.Derive"/>); no endpoint sets it.
/// Titles and descriptions are stored verbatim and only ever returned as JSON text.
/// </summary>
public static class WorkItemsApi
{
    public static void MapWorkItemsApi(this IEndpointRouteBuilder api)
    {
        api.MapPut("/projects/{name}/item-key", SetKeyAsync).RequireAction(Actions.ItemWrite);
        api.MapPost("/projects/{name}/items", CreateAsync).RequireAction(Actions.ItemWrite);
        api.MapGet("/projects/{name}/items", ListAsync).RequireAction(Actions.ItemRead);
        api.MapGet("/projects/{name}/items/{number}", ShowAsync).RequireAction(Actions.ItemRead);
        api.MapPatch("/projects/{name}/items/{number}", UpdateAsync).RequireAction(Actions.ItemWrite);
    }

    /// <summary>
    /// Sets the key prefix and/or the key pattern. A pattern is checked before it is stored (it compiles, names a key
    /// or number group, and does not run out of time on long texts); the default's own text is stored as the default.
    /// </summary>
    private static async Task<ItemKeyDto> SetKeyAsync(string name, SetItemKeyRequest? request, HttpContext context,
        ProjectStore projects, WorkItemStore items)
    {
        var (prefix, pattern) = (request?.Prefix, request?.Pattern);
        if (prefix is null && pattern is null)
            throw new ArgumentException("the body must give 'prefix' (\"SHOP\"), 'pattern' (a regular expression, \"\" for the default) or both");
        if (prefix is not null && WorkItemKey.CheckPrefix(prefix) is { } error) throw new ArgumentException(error);
        if (pattern is not null)
            pattern = (KeyPattern.Parse(pattern, out var patternError) ?? throw new ArgumentException(patternError)).IsDefault ? "" : pattern;
        var project = await projects.RequireAsync(name);
        await items.SetKeyAsync(project.Id, prefix, pattern);
        var changes = new[]
        {
            prefix is null ? null : $"work item key prefix set to {prefix}",
            pattern is null ? null : pattern.Length == 0 ? "work item key pattern set to the default" : $"work item key pattern set to {pattern}",
        };
        await context.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name}", string.Join("; ", changes.Where(c => c is not null)));
        var updated = await projects.RequireAsync(name);
        return new ItemKeyDto(updated.Name, updated.ItemKeyPrefix, updated.ItemKeyPattern ?? KeyPattern.Default.Text, updated.ItemKeyPattern is null);
    }

    private static async Task<IResult> CreateAsync(string name, CreateWorkItemRequest? request, HttpContext context,
        ProjectStore projects, WorkItemStore items, TimeProvider clock)
    {
        var item = await CreateItemAsync(name, request, context, projects, items, clock);
        return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/items/{item.Number}", item);
    }

    /// <summary>Checks, creates and audits a new item (the API and the web UI's create form).</summary>
    public static async Task<WorkItemDto> CreateItemAsync(string name, CreateWorkItemRequest? request, HttpContext context,
        ProjectStore projects, WorkItemStore items, TimeProvider clock)
    {
        if (WorkItemText.CheckTitle(request?.Title) is { } titleError) throw new ArgumentException(titleError);
        var (description, descriptionError) = WorkItemText.NormaliseDescription(request!.Description);
        if (descriptionError is not null) throw new ArgumentException(descriptionError);
        var kind = request.Kind is null ? WorkItemKind.Feature : ParseKind(request.Kind);
        var project = await projects.RequireAsync(name);
        if (project.ItemKeyPrefix is null)
            throw new ConflictException($"project '{name}' has no work item key prefix yet; set one first (PUT /api/v1/projects/{name}/item-key)");
        var user = context.RequireUser().Username;
        var row = await items.CreateAsync(project.Id, request.Title!, description!, kind, user, clock.GetUtcNow().ToUnixTimeMilliseconds());
        await context.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name} item:{row.Key}",
            $"work item {row.Key} created ({kind.Name()}): {row.Title}");
        return ToDto(row, project.Name, []);
    }

    /// <summary>The project's items, optionally in one derived state (the API list and the web UI's items page).</summary>
    public static async Task<IReadOnlyList<WorkItemDto>> ListAsync(string name, string? state, ProjectStore projects, WorkItemStore items,
        WorkItemStory story)
    {
        WorkItemState? wanted = null;
        if (!string.IsNullOrEmpty(state))
            wanted = WorkItemStates.Parse(state) ?? throw new ArgumentException(
                $"unknown state '{state}'; states are {string.Join(", ", WorkItemStates.All.Select(s => s.Name()))}");
        var project = await projects.RequireAsync(name);
        var list = (await items.ListAsync(project.Id)).Where(i => wanted is null || i.State == wanted).ToList();
        // Where each released item is now (the board's environment columns); read once for the whole list.
        var deployed = list.Any(i => i.ReleaseId is not null) ? await story.DeploymentsAsync(project.Id) : null;
        return list.Select(i =>
        {
            var dto = ToDto(i, project.Name, null);
            if (deployed?.JourneyOf(i) is not { } journey) return dto with { Stage = i.State.Name(), StageLabel = i.State.Name().Replace('_', ' ') };
            return dto with { Stage = journey.Stage, StageEnvironment = journey.StageEnvironment, StageLabel = journey.Label };
        }).ToList();
    }

    /// <summary>
    /// One item with its whole story (the API and the web UI's item page): the timeline, the change requests with their
    /// reviews, the releases containing it, its deployments with their approvals, and where it is now (<see cref="WorkItemStory"/>).
    /// </summary>
    public static async Task<WorkItemDto> ShowAsync(string name, long number, ProjectStore projects, WorkItemStore items, WorkItemStory story)
    {
        var project = await projects.RequireAsync(name);
        var row = await items.FindAsync(project.Id, number) ?? throw NotFound(name, number);
        return await story.TellAsync(ToDto(row, project.Name, await items.LinksAsync(row.Id)), row);
    }

    /// <summary>Checks, changes and audits the given fields of an item (the API and the web UI's edit form).</summary>
    public static async Task<WorkItemDto> UpdateAsync(string name, long number, UpdateWorkItemRequest? request, HttpContext context,
        ProjectStore projects, WorkItemStore items, TimeProvider clock)
    {
        if (request is null || (request.Title, request.Description, request.Kind) is (null, null, null))
            throw new ArgumentException("nothing to change: give at least one of 'title', 'description', 'kind'");
        if (request.Title is not null && WorkItemText.CheckTitle(request.Title) is { } titleError) throw new ArgumentException(titleError);
        string? description = null;
        if (request.Description is not null)
        {
            (description, var error) = WorkItemText.NormaliseDescription(request.Description);
            if (error is not null) throw new ArgumentException(error);
        }
        WorkItemKind? kind = request.Kind is null ? null : ParseKind(request.Kind);
        var project = await projects.RequireAsync(name);
        var user = context.RequireUser().Username;
        var row = await items.UpdateAsync(project.Id, number, request.Title, description, kind, user, clock.GetUtcNow().ToUnixTimeMilliseconds())
                  ?? throw NotFound(name, number);
        var changed = new[] { request.Title is null ? null : "title", description is null ? null : "description", kind is null ? null : "kind" }
            .Where(f => f is not null);
        await context.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name} item:{row.Key}",
            $"work item {row.Key} edited ({string.Join(", ", changed)}): {row.Title}");
        return ToDto(row, project.Name, await items.LinksAsync(row.Id));
    }

    private static WorkItemKind ParseKind(string kind) =>
        WorkItemKinds.Parse(kind) ?? throw new ArgumentException(
            $"unknown kind '{kind}'; kinds are {string.Join(", ", Enum.GetValues<WorkItemKind>().Select(k => k.Name()))}");

    private static KeyNotFoundException NotFound(string project, long number) => new($"project '{project}' has no work item {number}");

    private static WorkItemDto ToDto(WorkItemRow row, string project, IReadOnlyList<WorkItemLinkRow>? links) =>
        new(row.Key, project, row.Number, row.Title, row.Description, row.Kind, row.State.Name(), row.Requester,
            UnixMs.To(row.CreatedAt), UnixMs.To(row.UpdatedAt), row.UpdatedBy,
            links is null ? null : Timeline(row, links));

    private static IReadOnlyList<WorkItemEventDto> Timeline(WorkItemRow row, IReadOnlyList<WorkItemLinkRow> links) =>
        links.Select(l => new WorkItemEventDto(l.Kind, l.Ref, l.RunId, l.RunNumber is { } n ? (int)n : null, l.RunStatus, l.Actor, UnixMs.To(l.At)))
            .Prepend(new WorkItemEventDto("created", row.Key, null, null, null, row.Requester, UnixMs.To(row.CreatedAt)))
            .ToList();
}
