using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Slipway.Server.Git;
using Slipway.Server.Hosting;
using Slipway.Server.Storage;

namespace Slipway.Server.Scheduling;

public sealed class ProjectException(string message) : Exception(message);

/// <summary>
/// Creates projects: checks the name, clones the mirror (refusing a URL git cannot fetch, with git's error),
/// stores the project and its branch heads, and starts the first run of the default branch.
/// </summary>
public sealed partial class ProjectService(ProjectStore projects, MirrorDirectory mirrors, RunFactory runs, GitCredentials credentials, TimeProvider clock,
    ServerOptions options)
{
    /// <summary>Where hosted repositories live: DATA/hosted/NAME.git, served at /git/NAME.git.</summary>
    public static string HostedRoot(ServerOptions options) => Path.Combine(options.FullDataDirectory, "hosted");

    /// <summary>
    /// A project hosted by Slipway: an empty bare repository in DATA/hosted/NAME.git (default branch main) whose
    /// mirror fetches from that path. It has no branches and no runs until the first push.
    /// </summary>
    public async Task<ProjectRow> CreateHostedAsync(string name, CancellationToken ct = default)
    {
        if (!NamePattern().IsMatch(name))
            throw new ProjectException("a project name is 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit");
        if (await projects.FindAsync(name) is not null)
            throw new ProjectException($"a project named '{name}' already exists");
        var path = Path.Combine(HostedRoot(options), name + ".git");
        if (Directory.Exists(path))
            throw new ProjectException($"a hosted repository named '{name}' already exists");
        Directory.CreateDirectory(HostedRoot(options));
        var timeout = options.GitTimeout;
        await GitCli.OutputAsync(null, ["init", "--bare", "--quiet", "--initial-branch=main", "--", path], timeout, ct);
        await GitCli.OutputAsync(path, ["config", "http.receivepack", "true"], timeout, ct);
        await GitCli.OutputAsync(path, ["config", "receive.denyDeleteCurrent", "true"], timeout, ct);
        try { return await CreateAsync(name, path, "main", ct); }
        catch
        {
            Directory.Delete(path, recursive: true); // no repository without its project
            throw;
        }
    }


    /// <param name="credential">For an external repository that needs one: used for the clone, then stored encrypted.</param>
    public async Task<ProjectRow> CreateAsync(string name, string repo, string? branch, CancellationToken ct = default,
        (string Username, string Password)? credential = null)
    {
        if (credential is { } c && (string.IsNullOrWhiteSpace(c.Username) || c.Password.Length == 0 || c.Username.Length > 200 || c.Password.Length > 4096
                                    || c.Username.Any(char.IsControl) || c.Password.Any(char.IsControl)))
            throw new ProjectException("the git credential needs a username and password without control characters");
        if (!NamePattern().IsMatch(name))
            throw new ProjectException("a project name is 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit");
        if (string.IsNullOrWhiteSpace(repo) || repo.StartsWith('-'))
            throw new ProjectException("--repo must be a URL or path git can fetch");
        if (await projects.FindAsync(name) is not null)
            throw new ProjectException($"a project named '{name}' already exists");

        var mirror = mirrors.For(name);
        try { await mirror.CloneAsync(repo, ct, credential is { } given ? credentials.For(given.Username, given.Password) : null); }
        catch (GitException e) { throw new ProjectException($"cannot fetch {repo}: {e.Message}"); }

        var heads = await mirror.HeadsAsync(ct);
        var defaultBranch = branch ?? (heads.ContainsKey("main") ? "main" : heads.ContainsKey("master") ? "master" : heads.Keys.FirstOrDefault() ?? "main");
        if (heads.Count > 0 && !heads.ContainsKey(defaultBranch))
            throw new ProjectException($"the repository has no branch '{defaultBranch}' (it has: {string.Join(", ", heads.Keys.Take(10))})");

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var project = await projects.CreateAsync(name, repo, defaultBranch, secret, heads, clock.GetUtcNow().ToUnixTimeMilliseconds())
            ?? throw new ProjectException($"a project named '{name}' already exists");
        if (credential is { } stored)
            await projects.SetGitCredentialAsync(project.Id, stored.Username, credentials.Protect(stored.Password));
        if (heads.TryGetValue(defaultBranch, out var head))
            await runs.StartAsync(project, defaultBranch, head, "project created", ct);
        return project;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
