
namespace Slipway.Server.Git;

/// <summary>Where each project's mirror lives: DATA/mirrors/NAME.git.</summary>
public sealed class MirrorDirectory(ServerOptions options)
{
    public RepositoryMirror For(string project) =>
        new(Path.Combine(options.FullDataDirectory, "mirrors", project + ".git"), options.GitTimeout);
}
