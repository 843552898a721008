using Slipway.Core.Repositories;

namespace Slipway.Server.Git;

/// <summary>
/// The credential Slipway uses for an external repository that needs one (fetching the mirror, pushing merges).
/// The password is stored encrypted like a secret and handed to git only through the environment of one git
/// process, read back by a fixed askpass helper script (DATA/git-askpass, 0700) that prints the variables: it
/// never appears in a URL, an argument, git's config or a log. A token given as the user name of an https address
/// (<c>https://TOKEN@host/...</c>) is a secret too: it is stored encrypted in the password column with no user name
/// (<c>git_username</c> NULL), and git gets it as the user name with an empty password.
/// Also decides which transports git may use for a project (<c>GIT_ALLOW_PROTOCOL</c>): local paths only for a
/// repository on the server's disk.
/// </summary>
public sealed class GitCredentials(SecretVault vault, ServerOptions options)
{
    private const string Script = "#!/bin/sh\n# Slipway's git askpass helper: answers git's prompts from the environment of the one git process.\n" +
                                  "case \"$1\" in\n  Username*) printf '%s\\n' \"$SLIPWAY_GIT_USERNAME\" ;;\n  *) printf '%s\\n' \"$SLIPWAY_GIT_PASSWORD\" ;;\nesac\n";
    private readonly Lock _writeLock = new();

    public string Protect(string password) => vault.Protect(password);

    /// <summary>
    /// The environment for git processes that reach this project's repository (fetch, push): the transports it may use
    /// and, when the project has a credential, the askpass helper with it.
    /// </summary>
    public IReadOnlyDictionary<string, string> For(ProjectRow project)
    {
        var env = new Dictionary<string, string> { ["GIT_ALLOW_PROTOCOL"] = GitCli.AllowedProtocols(RepositoryUrl.IsLocal(project.RepoUrl)) };
        if (project.GitPasswordProtected is not { } protectedSecret) return env;
        var secret = vault.TryUnprotect(protectedSecret)
                     ?? throw new InvalidOperationException($"the git credential of '{project.Name}' cannot be decrypted (was the key ring replaced?)");
        // No user name stored: the secret is a token that was the address's user name.
        foreach (var (key, value) in project.GitUsername is { } username ? For(username, secret) : For(secret, "")) env[key] = value;
        return env;
    }

    /// <summary>The environment that makes git answer its prompts with this username and password.</summary>
    public IReadOnlyDictionary<string, string> For(string username, string password) => new Dictionary<string, string>
    {
        ["GIT_ASKPASS"] = EnsureScript(),
        ["SLIPWAY_GIT_USERNAME"] = username,
        ["SLIPWAY_GIT_PASSWORD"] = password,
    };

    private string EnsureScript()
    {
        var path = Path.Combine(options.FullDataDirectory, "git-askpass");
        lock (_writeLock)
        {
            if (File.Exists(path) && File.ReadAllText(path) == Script) return path;
            var temp = path + ".tmp";
            File.WriteAllText(temp, Script);
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.Move(temp, path, overwrite: true);
        }
        return path;
    }
}
