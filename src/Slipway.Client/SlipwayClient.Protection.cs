using System.Net.Http.Json;
using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>What is protected in a project: its protected branches, the branches that release and the protected release tags.</summary>
public sealed partial class SlipwayClient
{
    /// <summary>The protected branches (the default branch first).</summary>
    public Task<List<string>> ListProtectedBranchesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<string>>($"{ProjectPath(project)}/protected-branches", ct);

    /// <summary>Marks a branch protected: it then changes only through merges, and may be made a release branch (repo.protect).</summary>
    public async Task ProtectBranchAsync(string project, string branch, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"{ProjectPath(project)}/protected-branches/{BranchPath(branch)}", new { }, Json, ct);
        await EnsureAsync(response);
    }

    /// <summary>Takes a branch's protection away (not the default branch, not a release branch; repo.protect).</summary>
    public async Task UnprotectBranchAsync(string project, string branch, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"{ProjectPath(project)}/protected-branches/{BranchPath(branch)}", ct);
        await EnsureAsync(response);
    }

    public Task<ReleaseBranchesDto> GetReleaseBranchesAsync(string project, CancellationToken ct = default) =>
        GetAsync<ReleaseBranchesDto>($"{ProjectPath(project)}/release-branches", ct);

    /// <summary>Sets the branches whose green runs release and/or the protected release tag patterns (null: unchanged; repo.protect).</summary>
    public async Task<ReleaseBranchesDto> SetReleaseBranchesAsync(string project, IReadOnlyList<string>? branches, IReadOnlyList<string>? protectedTags = null,
        CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"{ProjectPath(project)}/release-branches", new SetReleaseBranchesRequest(branches, protectedTags), Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<ReleaseBranchesDto>(Json, ct))!;
    }

    /// <summary>A branch name in a URL path: each segment escaped, the slashes kept (the route takes the rest of the path).</summary>
    private static string BranchPath(string branch) => string.Join('/', branch.Split('/').Select(Uri.EscapeDataString));
}
