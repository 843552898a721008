using System.Text.Json;
using Slipway.Contracts.Api;
using Slipway.Core.Releases;

namespace Slipway.Server.Releases;

/// <summary>What is shown of releases, to the API and the pages alike: the list, one release with its artifacts and items.</summary>
public sealed class ReleaseViews(ProjectStore projects, ReleaseStore releases)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The project's releases, newest first (the API and the web UI's release list).</summary>
    public async Task<IReadOnlyList<ReleaseSummaryDto>> ListAsync(string name)
    {
        var project = await projects.RequireAsync(name);
        return (await releases.ListAsync(project.Id)).Select(r => Summary(r, project.Name)).ToList();
    }

    public async Task<ReleaseDto> ShowAsync(string name, string version)
    {
        var project = await projects.RequireAsync(name);
        var release = await FindAsync(project, version);
        return await ToDtoAsync(release, project.Name);
    }

    /// <summary>The release of that version; a malformed or unknown version is a 404.</summary>
    public async Task<ReleaseRow> FindAsync(ProjectRow project, string version) =>
        (VersionTemplate.IsValidVersion(version) ? await releases.FindAsync(project.Id, version) : null)
        ?? throw new KeyNotFoundException($"project '{project.Name}' has no release {version}");

    public static ReleaseSummaryDto Summary(ReleaseRow r, string project) =>
        new(project, r.Version, r.RunId, (int)r.RunNumber, r.CommitSha, r.Branch, UnixMs.To(r.CreatedAt), r.CreatedBy, (int)r.Items, (int)r.Artifacts);

    public async Task<ReleaseDto> ToDtoAsync(ReleaseRow r, string project) =>
        new(project, r.Version, r.RunId, (int)r.RunNumber, r.CommitSha, r.Branch, UnixMs.To(r.CreatedAt), r.CreatedBy,
            r.TestSummary is null ? null : JsonSerializer.Deserialize<TestSummaryViewDto>(r.TestSummary, Json),
            (await releases.ArtifactsAsync(r.Id)).Select(a => new ReleaseArtifactDto(a.Path, a.Sha256, a.Size)).ToList(),
            (await releases.ItemsAsync(r.Id)).Select(i => new ReleaseItemDto(i.Key, i.Title, i.Kind)).ToList(),
            r.Notes, r.PipelineSnapshot);
}
