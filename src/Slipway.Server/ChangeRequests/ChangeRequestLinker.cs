using Slipway.Core.WorkItems;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Links change requests to the work items they name (title, description, source branch, commit messages) and
/// keeps open change requests on their source branch's newest head. Separate from the service so the change
/// detector can call it after a push without depending on merging.
/// </summary>
public sealed class ChangeRequestLinker(ChangeRequestStore store, MirrorDirectory mirrors, ReleaseStore releases, KeyPatterns keyPatterns)
{
    /// <summary>The ids of the items the texts name, and a warning per key that names no item.</summary>
    public async Task<(IReadOnlyList<long> Ids, IReadOnlyList<string> Warnings)> FindItemsAsync(ProjectRow project, IEnumerable<string?> texts)
    {
        if (project.ItemKeyPrefix is not { } prefix) return ([], []);
        // The project's key pattern; an unusable stored pattern links nothing here (runs report why).
        if (keyPatterns.For(project.ItemKeyPattern, out _) is not { } pattern) return ([], []);
        var found = KeyFinder.Find(texts, pattern, prefix);
        var keys = found.Keys;
        if (keys.Count == 0) return ([], found.TimedOut ? ["searching for work item keys timed out; some keys may not be linked"] : []);
        var byNumber = await releases.ItemsByNumberAsync(project.Id);
        var ids = keys.Where(k => byNumber.ContainsKey(k.Number)).Select(k => byNumber[k.Number].ItemId).ToList();
        var warnings = keys.Where(k => !byNumber.ContainsKey(k.Number)).Select(k => $"names work item {k}, which does not exist").ToList();
        return (ids, warnings);
    }

    /// <summary>After a fetch saw <paramref name="branch"/> at <paramref name="head"/>: open change requests from it move to that head.</summary>
    public async Task SourceMovedAsync(ProjectRow project, string branch, string head, CancellationToken ct = default)
    {
        var open = await store.OpenFromAsync(project.Id, branch);
        if (open.Count == 0) return;
        var mirror = await mirrors.ReadyAsync(project, head, ct);
        foreach (var row in open)
        {
            var target = await mirror.ResolveCommitAsync("refs/heads/" + row.TargetBranch, ct);
            var messages = target is null ? [] : await mirror.CommitMessagesAsync(head, target, ct: ct);
            var (itemIds, _) = await FindItemsAsync(project, messages);
            await store.UpdateHeadAsync(row.Id, head, itemIds);
        }
    }
}
