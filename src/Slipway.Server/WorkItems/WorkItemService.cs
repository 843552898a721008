using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.WorkItems;

namespace Slipway.Server.WorkItems;

/// <summary>
/// Work items of a project, whichever door they come through (<see cref="WorkItemsApi"/>, <see cref="WorkItemPages"/>):
/// the key prefix and pattern, create, edit, list and one item's whole story. Checks titles, descriptions, kinds and
/// patterns, and writes the audit entry of every change. The state is derived from links
/// (<see cref="WorkItemStates.Derive"/>); nothing here sets it.
/// </summary>
public sealed class WorkItemService(ProjectStore projects, WorkItemStore items, WorkItemStory story, TimeProvider clock)
{
    /// <summary>
    /// Sets the key prefix and/or the key pattern. A pattern is checked before it is stored (it compiles, names a key
    /// or number group, and does not run out of time on long texts); the default's own text is stored as the default.
    /// </summary>
    public async Task<ItemKeyDto> SetKeyAsync(Actor actor, string name, SetItemKeyRequest? request)
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
        await actor.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name}", string.Join("; ", changes.Where(c => c is not null)));
        return await KeyAsync(name);
    }

    /// <summary>The key prefix (null: not set yet) and the pattern in use (the default's text when the project has none of its own).</summary>
    public async Task<ItemKeyDto> KeyAsync(string name)
    {
        var project = await projects.RequireAsync(name);
        return new ItemKeyDto(project.Name, project.ItemKeyPrefix, project.ItemKeyPattern ?? KeyPattern.Default.Text, project.ItemKeyPattern is null);
    }

    /// <summary>Checks, creates and audits a new item.</summary>
    public async Task<WorkItemDto> CreateAsync(Actor actor, string name, CreateWorkItemRequest? request)
    {
        if (WorkItemText.CheckTitle(request?.Title) is { } titleError) throw new ArgumentException(titleError);
        var (description, descriptionError) = WorkItemText.NormaliseDescription(request!.Description);
        if (descriptionError is not null) throw new ArgumentException(descriptionError);
        var kind = request.Kind is null ? WorkItemKind.Feature : ParseKind(request.Kind);
        var project = await projects.RequireAsync(name);
        if (project.ItemKeyPrefix is null)
            throw new ConflictException($"project '{name}' has no work item key prefix yet; set one first (PUT /api/v1/projects/{name}/item-key)");
        var user = actor.User.Username;
        var row = await items.CreateAsync(project.Id, request.Title!, description!, kind, user, clock.GetUtcNow().ToUnixTimeMilliseconds());
        await actor.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name} item:{row.Key}",
            $"work item {row.Key} created ({kind.Name()}): {row.Title}");
        return ToDto(row, project.Name, []);
    }

    /// <summary>The project's items, optionally in one derived state, each with where it is now (the board's columns).</summary>
    public async Task<IReadOnlyList<WorkItemDto>> ListAsync(string name, string? state)
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
    /// One item with its whole story: the timeline, the change requests with their
    /// reviews, the releases containing it, its deployments with their approvals, and where it is now (<see cref="WorkItemStory"/>).
    /// </summary>
    public async Task<WorkItemDto> ShowAsync(string name, long number, Principal.User viewer)
    {
        var project = await projects.RequireAsync(name);
        var row = await items.FindAsync(project.Id, number) ?? throw NotFound(name, number);
        var told = await story.TellAsync(ToDto(row, project.Name, await items.LinksAsync(row.Id)), row);
        return WorkItemStory.AsSeenBy(told, action => viewer.Permissions.CanOnProject(action, project.Name));
    }

    /// <summary>The number of the project's item whose key is <paramref name="key"/> (SHOP-42 → 42), or 404 when it has none such.</summary>
    public async Task<long> NumberOfAsync(string name, string key)
    {
        var project = await projects.RequireAsync(name);
        if (Core.WorkItems.WorkItemKey.TryParse(key, out var parsed) && parsed.Value.Prefix == project.ItemKeyPrefix
            && await items.FindAsync(project.Id, parsed.Value.Number) is not null)
            return parsed.Value.Number;
        throw new KeyNotFoundException($"project '{name}' has no work item {key}");
    }

    /// <summary>Checks, changes and audits the given fields of an item.</summary>
    public async Task<WorkItemDto> UpdateAsync(Actor actor, string name, long number, UpdateWorkItemRequest? request)
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
        var user = actor.User.Username;
        var row = await items.UpdateAsync(project.Id, number, request.Title, description, kind, user, clock.GetUtcNow().ToUnixTimeMilliseconds())
                  ?? throw NotFound(name, number);
        var changed = new[] { request.Title is null ? null : "title", description is null ? null : "description", kind is null ? null : "kind" }
            .Where(f => f is not null);
        await actor.AuditAsync(Actions.ItemWrite, AuditOutcomes.Succeeded, $"project:{name} item:{row.Key}",
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
