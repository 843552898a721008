using Slipway.Contracts.Api;

namespace Slipway.Server.Projects;

/// <summary>Project rows to API shapes.</summary>
public static class ProjectMapping
{
    public static ProjectDto ToDto(this ProjectRow p) =>
        new(p.Name, p.RepoUrl, p.DefaultBranch, UnixMs.To(p.CreatedAt), p.LastFetchError, p.ItemKeyPrefix, p.ItemKeyPattern);
}
