using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Releases;

namespace Slipway.Server.Releases;

/// <summary>
/// /api/v1/projects/{name}/release-branches: which branches release and which tags are protected release tags. Server-side
/// settings, because the pipeline file is whatever the pushed branch says: read with project.read, changed with
/// repo.protect (the action that protects branches) and audited. Only protected branches can be set to release.
/// </summary>
public static class ReleaseBranchesApi
{
    public static void MapReleaseBranchesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/release-branches", GetAsync).RequireAction(Actions.ProjectRead);
        api.MapPut("/projects/{name}/release-branches", SetAsync).RequireAction(Actions.RepoProtect);
    }

    public static async Task<ReleaseBranchesDto> GetAsync(string name, ProjectStore projects, ReleaseSettingsStore settings)
    {
        var project = await projects.RequireAsync(name);
        return ToDto(project.Name, await settings.GetAsync(project));
    }

    private static async Task<ReleaseBranchesDto> SetAsync(string name, SetReleaseBranchesRequest? request, HttpContext context, ProjectStore projects,
        ReleaseSettingsStore settings, ServerOptions options, TimeProvider clock, CancellationToken ct)
    {
        if (request?.Branches is null && request?.ProtectedTags is null)
            throw new ArgumentException("the body must be {\"branches\": [\"main\", ...], \"protectedTags\": [\"v*\", ...]}; give at least one of them");
        var project = await projects.RequireAsync(name);
        var current = await settings.GetAsync(project);
        var branches = request.Branches ?? current.ReleaseBranchList;
        var tags = request.ProtectedTags ?? current.ProtectedTags;
        await CheckBranchesAsync(project.Name, branches, current, options, ct);
        CheckTags(tags);

        var user = context.RequireUser().Username;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await settings.SetAsync(project.Id, branches, tags, user, now);
        await context.AuditAsync(Actions.RepoProtect, AuditOutcomes.Succeeded, $"project:{project.Name}",
            $"release branches: {string.Join(", ", branches)}; protected tags: {(tags.Count == 0 ? "none" : string.Join(", ", tags))}");
        return ToDto(project.Name, current with { ReleaseBranchList = branches, ProtectedTags = tags, IsDefault = false, UpdatedBy = user, UpdatedAt = now });
    }

    private static async Task CheckBranchesAsync(string project, IReadOnlyList<string> branches, ProjectProtection protection, ServerOptions options,
        CancellationToken ct)
    {
        if (branches.Count is 0 or > ReleaseBranches.MaxBranches)
            throw new ArgumentException($"name 1 to {ReleaseBranches.MaxBranches} release branches");
        if (branches.GroupBy(b => b, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"branch '{twice.Key}' is listed twice");
        foreach (var branch in branches)
        {
            await RepositorySettingsApi.RequireBranchNameAsync(branch ?? "", options, ct);
            if (!protection.IsProtected(branch!))
                throw new ConflictException(
                    $"branch '{branch}' is not protected, and only protected branches can release (their code changes only through merges); " +
                    $"protect it first: slipway project protect {project} {branch} (PUT /api/v1/projects/{project}/protected-branches/{branch}, action repo.protect)");
        }
    }

    private static void CheckTags(IReadOnlyList<string> tags)
    {
        if (tags.Count > ReleaseBranches.MaxTagPatterns)
            throw new ArgumentException($"name at most {ReleaseBranches.MaxTagPatterns} protected tag patterns");
        foreach (var tag in tags)
            if (ProtectedTags.CheckPattern(tag ?? "") is { } error) throw new ArgumentException(error);
        if (tags.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"tag pattern '{twice.Key}' is listed twice");
    }

    private static ReleaseBranchesDto ToDto(string project, ProjectProtection p) =>
        new(project, p.ReleaseBranchList, p.ProtectedTags, p.ProtectedBranches, p.IsDefault, p.UpdatedBy, p.UpdatedAt is { } at ? UnixMs.To(at) : null);
}
