using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.WorkItems;
using Slipway.Server.Access;
using Slipway.Server.Audit;
using Slipway.Server.Storage;

namespace Slipway.Server.Api;

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
        var project = await ProjectsApi.Find(projects, name);
        await items.SetKeyAsync(project.Id, prefix, pattern);
        var changes = new[]
        {
            prefix is null ? null : $"work item key prefix set to {prefix}",
            pattern is null ? null : pattern.Length == 0 ? "work item key pattern set to the default" : $"work item key pattern set to {pattern}",
        };
        await context.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name}", string.Join("; ", changes.Where(c => c is not null)));
        var updated = await ProjectsApi.Find(projects, name);
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
        var project = await ProjectsApi.Find(projects, name);
        if (project.ItemKeyPrefix is null)
            throw new ConflictException($"project '{name}' has no work item key prefix yet; set one first (PUT /api/v1/projects/{name}/item-key)");
        var user = context.RequireUser().Username;
        var row = await items.CreateAsync(project.Id, request.Title!, description!, kind, user, clock.GetUtcNow().ToUnixTimeMilliseconds());
        await context.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name} item:{row.Key}",
            $"work item {row.Key} created ({kind.Name()}): {row.Title}");
        return ToDto(row, project.Name, []);
    }

    /// <summary>The project's items, optionally in one derived state (the API list and the web UI's items page).</summary>
    public static async Task<IReadOnlyList<WorkItemDto>> ListAsync(string name, string? state, ProjectStore projects, WorkItemStore items)
    {
        WorkItemState? wanted = null;
        if (!string.IsNullOrEmpty(state))
            wanted = WorkItemStates.Parse(state) ?? throw new ArgumentException(
                $"unknown state '{state}'; states are {string.Join(", ", WorkItemStates.All.Select(s => s.Name()))}");
        var project = await ProjectsApi.Find(projects, name);
        return (await items.ListAsync(project.Id)).Where(i => wanted is null || i.State == wanted)
            .Select(i => ToDto(i, project.Name, null)).ToList();
    }

    /// <summary>One item with its timeline (the API and the web UI's item page).</summary>
    public static async Task<WorkItemDto> ShowAsync(string name, long number, ProjectStore projects, WorkItemStore items, ReleaseStore releases,
        DeploymentStore deployments)
    {
        var project = await ProjectsApi.Find(projects, name);
        var row = await items.FindAsync(project.Id, number) ?? throw NotFound(name, number);
        var dto = ToDto(row, project.Name, await items.LinksAsync(row.Id));
        if (row.Release is null || await releases.FindAsync(project.Id, row.Release) is not { } first) return dto;
        var (events, where) = await EnvironmentsOfAsync(project, first, deployments);
        return dto with { Timeline = [.. dto.Timeline!, .. events], Environments = where };
    }

    /// <summary>
    /// Where the item's first release (and so the item) went: per environment the first successful deployment of it or a
    /// later release, and, when the environment's current release predates it again, the rollback that took it away.
    /// </summary>
    private static async Task<(IReadOnlyList<WorkItemEventDto> Events, IReadOnlyList<ItemEnvironmentDto> Where)> EnvironmentsOfAsync(
        ProjectRow project, ReleaseRow first, DeploymentStore deployments)
    {
        // Deployments that ran (succeeded, or failed or were lost after starting) reached the environment's servers.
        var ran = (await deployments.ListAsync(project.Id, limit: 10_000))
            .Where(d => d.RunId is not null && d.FinishedAt is not null && d.State is "succeeded" or "failed" or "unknown").OrderBy(d => d.Id).ToList();
        var events = new List<WorkItemEventDto>();
        var where = new List<ItemEnvironmentDto>();
        foreach (var byEnvironment in ran.GroupBy(d => d.Environment))
        {
            var arrived = byEnvironment.FirstOrDefault(d => d.ReleaseId >= first.Id);
            if (arrived is null) continue;
            events.Add(new WorkItemEventDto("deployed", $"{arrived.Environment} {arrived.Version}{(arrived.State == "succeeded" ? "" : $" ({arrived.State})")}",
                arrived.RunId, null, null, arrived.Initiator, UnixMs.To(arrived.FinishedAt!.Value)));
            var current = byEnvironment.LastOrDefault(d => d.State == "succeeded");
            if (current is not null && current.ReleaseId < first.Id && current.Id > arrived.Id)
            {
                events.Add(new WorkItemEventDto("rolled_back", $"{current.Environment} {current.Version}", current.RunId, null, null, current.Initiator, UnixMs.To(current.FinishedAt!.Value)));
                where.Add(new ItemEnvironmentDto(current.Environment, current.Version, "rolled_back", UnixMs.To(current.FinishedAt!.Value), current.Initiator));
            }
            else if (current is not null && current.ReleaseId >= first.Id)
                where.Add(new ItemEnvironmentDto(current.Environment, current.Version, "deployed", UnixMs.To(current.FinishedAt!.Value), current.Initiator));
        }
        return (events.OrderBy(e => e.At).ToList(), where);
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
        var project = await ProjectsApi.Find(projects, name);
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
