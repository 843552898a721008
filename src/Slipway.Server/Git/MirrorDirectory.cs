
namespace Slipway.Server.Git;

/// <summary>
/// Where each project's mirror lives: DATA/mirrors/NAME.git. Mirrors belong to one server node (never shared): a node
/// that has none yet for a project, or lacks a commit another node fetched, clones or fetches on demand
/// (<see cref="ReadyAsync"/>), so any node can serve any project's sources.
/// </summary>
public sealed class MirrorDirectory(ServerOptions options, GitCredentials credentials)
{
    public RepositoryMirror For(string project) =>
        new(Path.Combine(options.FullDataDirectory, "mirrors", project + ".git"), options.GitTimeout);

    /// <summary>The project's mirror on this node, cloned if this node has none, fetched if it lacks <paramref name="commit"/>.</summary>
    public async Task<RepositoryMirror> ReadyAsync(ProjectRow project, string? commit = null, CancellationToken ct = default)
    {
        var mirror = For(project.Name);
        if (await mirror.CloneIfMissingAsync(project.RepoUrl, ct, credentials.For(project))) return mirror;
        if (commit is not null && await mirror.ResolveCommitAsync(commit, ct) is null) await mirror.FetchAsync(ct, credentials.For(project));
        return mirror;
    }
}
