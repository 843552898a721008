using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Repositories;

namespace Slipway.Server.Projects;

public sealed class ProjectException(string message) : Exception(message);

/// <summary>
/// Creates projects: checks the name, clones the mirror (refusing a URL git cannot fetch, with git's error, the
/// address's credential taken out of both), stores the project with an address that holds no secret and its branch
/// heads, and starts the first run of the default branch.
/// </summary>
public sealed partial class ProjectService(ProjectStore projects, MirrorDirectory mirrors, RunFactory runs, GitCredentials credentials, TimeProvider clock,
    ServerOptions options)
{
    /// <summary>Where hosted repositories live: HOSTED/NAME.git (DATA/hosted by default; shared by all nodes), served at /git/NAME.git.</summary>
    public static string HostedRoot(ServerOptions options) => options.FullHostedDirectory;

    /// <summary>A push webhook's HMAC secret: 24 random bytes as 48 hex characters.</summary>
    public static string NewWebhookSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>The database lock every push into a hosted repository takes (users' pushes and merges), on every node.</summary>
    public static string RepositoryLock(ProjectRow project) => $"repository:{project.Id}";

    /// <summary>
    /// A project as asked for through the API or the projects page: hosted, or from a repository address (a path on the
    /// server's disk only for holders of project.local-repo: it is read with the server's rights). The webhook secret in
    /// the answer is the only time it is shown.
    /// </summary>
    public async Task<ProjectCreatedDto> CreateAsync(Actor actor, CreateProjectRequest request, CancellationToken ct)
    {
        if (request.Hosted && (!string.IsNullOrEmpty(request.Repo) || !string.IsNullOrEmpty(request.Branch) || request.GitUsername is not null))
            throw new ProjectException("a hosted project takes no repo, branch or credential: Slipway makes its repository (branch main)");
        if ((request.GitUsername is null) != (request.GitPassword is null))
            throw new ProjectException("give both gitUsername and gitPassword, or neither");
        ProjectRow project;
        if (request.Hosted) project = await CreateHostedAsync(request.Name ?? "", ct);
        else
        {
            // Checked before git sees it: unsupported transports and remote helpers (ext::, fd::) are refused here.
            var address = RepositoryUrl.Parse(request.Repo);
            if (address.Transport == RepositoryTransport.Local && !actor.User.Permissions.Can(Actions.ProjectLocalRepo))
            {
                var refusal = $"{actor.User.Username} may not {Actions.ProjectLocalRepo}: a project from a path on the server's disk needs an admin; " +
                              "use an https, http, ssh or git URL";
                await actor.AuditAsync(Actions.ProjectLocalRepo, AuditOutcomes.Denied, $"project:{request.Name}", refusal);
                throw new PolicyRefusedException(refusal);
            }
            project = await CreateAsync(request.Name ?? "", address, request.Branch, ct,
                request.GitUsername is null ? null : (request.GitUsername, request.GitPassword!));
            if (address.HasCredential)
                await actor.AuditAsync(Actions.ProjectCreate, AuditOutcomes.Succeeded, $"project:{project.Name}",
                    "the credential in the repository address was taken out of it and stored encrypted");
        }
        return new ProjectCreatedDto(project.Name, project.RepoUrl, project.DefaultBranch, request.Hosted ? null : project.WebhookSecret);
    }

    /// <summary>
    /// A project hosted by Slipway: an empty bare repository in DATA/hosted/NAME.git (default branch main) whose
    /// mirror fetches from that path. It has no branches and no runs until the first push.
    /// </summary>
    public async Task<ProjectRow> CreateHostedAsync(string name, CancellationToken ct = default)
    {
        RequireName(name);
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
        try { return await CreateFromFolderAsync(name, path, "main", ct); }
        catch
        {
            Directory.Delete(path, recursive: true); // no repository without its project
            throw;
        }
    }

    /// <summary>
    /// A project from a repository Slipway made itself in its data folder (a hosted repository, the demo): the one way a
    /// path inside the data folder becomes a project's repository.
    /// </summary>
    public Task<ProjectRow> CreateFromFolderAsync(string name, string path, string branch, CancellationToken ct = default) =>
        CloneAndStoreAsync(name, new RepositoryAddress(RepositoryTransport.Local, path, path, null, null), branch, null, ct);

    /// <summary>
    /// A project from a repository address a user gave (checked with <see cref="RepositoryUrl.Parse"/> by the caller, who
    /// also decided whether this user may name a local path). A local path inside the data folder is refused for everyone.
    /// Credentials in an http(s) address are split out: used for the clone, stored encrypted, never kept in the address.
    /// </summary>
    /// <param name="credential">For an external repository that needs one: used for the clone, then stored encrypted.</param>
    public async Task<ProjectRow> CreateAsync(string name, RepositoryAddress address, string? branch, CancellationToken ct = default,
        (string Username, string Password)? credential = null)
    {
        if (credential is { } c && (string.IsNullOrWhiteSpace(c.Username) || c.Password.Length == 0 || c.Username.Length > 200 || c.Password.Length > 4096
                                    || c.Username.Any(char.IsControl) || c.Password.Any(char.IsControl)))
            throw new ProjectException("the git credential needs a username and password without control characters");
        if (address.HasCredential)
        {
            if (credential is not null)
                throw new ProjectException("give the credential either in the repository address or as gitUsername/gitPassword, not both");
            if (address.Username!.Length > 4096 || (address.Password?.Length ?? 0) > 4096)
                throw new ProjectException("the credential in the repository address is too long");
        }
        if (address.Transport == RepositoryTransport.Local && DataFolderHolds(address.LocalPath!))
            throw new ProjectException("a path inside Slipway's data folder cannot be a project's repository (for a repository Slipway hosts, create the project with hosted: true)");
        return await CloneAndStoreAsync(name, address, branch, credential, ct);
    }

    private async Task<ProjectRow> CloneAndStoreAsync(string name, RepositoryAddress address, string? branch,
        (string Username, string Password)? credential, CancellationToken ct)
    {
        RequireName(name);
        if (await projects.FindAsync(name) is not null)
            throw new ProjectException($"a project named '{name}' already exists");

        // What git is given: the address without its user information, the credential through the askpass helper.
        // (Username, Secret) as stored: a token that was the address's user name is stored with no user name.
        (string? Username, string Secret)? stored = credential is { } given ? (given.Username, given.Password)
            : address.Password is { } password ? (address.Username, password)
            : address.Username is { } token ? (null, token)
            : null;
        var env = new Dictionary<string, string> { ["GIT_ALLOW_PROTOCOL"] = GitCli.AllowedProtocols(address.Transport == RepositoryTransport.Local) };
        if (stored is { } s)
            foreach (var (key, value) in credentials.For(s.Username ?? s.Secret, s.Username is null ? "" : s.Secret)) env[key] = value;

        var mirror = mirrors.For(name);
        try { await mirror.CloneAsync(address.Url, ct, env); }
        catch (GitException e) { throw new ProjectException($"cannot fetch {address.Url}: {Redact(e.Message, stored?.Secret, address.Username)}"); }

        var heads = await mirror.HeadsAsync(ct);
        var defaultBranch = branch ?? (heads.ContainsKey("main") ? "main" : heads.ContainsKey("master") ? "master" : heads.Keys.FirstOrDefault() ?? "main");
        if (heads.Count > 0 && !heads.ContainsKey(defaultBranch))
            throw new ProjectException($"the repository has no branch '{defaultBranch}' (it has: {string.Join(", ", heads.Keys.Take(10))})");

        var secret = NewWebhookSecret();
        var project = await projects.CreateAsync(name, address.Url, defaultBranch, secret, heads, clock.GetUtcNow().ToUnixTimeMilliseconds())
            ?? throw new ProjectException($"a project named '{name}' already exists");
        if (stored is { } keep)
        {
            await projects.SetGitCredentialAsync(project.Id, keep.Username, credentials.Protect(keep.Secret));
            project = (await projects.GetAsync(project.Id))!;
        }
        if (heads.TryGetValue(defaultBranch, out var head))
            await runs.StartAsync(project, defaultBranch, head, "project created", ct);
        return project;
    }

    /// <summary>True for the data folder and anything in it (symbolic links resolved): hosted repositories, mirrors, keys, the database.</summary>
    public bool DataFolderHolds(string path)
    {
        var data = LocalPaths.Resolve(options.FullDataDirectory);
        var target = LocalPaths.Resolve(path);
        return target == data || target.StartsWith(data.TrimEnd('/') + "/", StringComparison.Ordinal);
    }

    /// <summary>Git's message with anything secret taken out: URL user information, and the credential's values themselves.</summary>
    private static string Redact(string message, params string?[] secrets)
    {
        var text = RepositoryUrl.Redact(message);
        foreach (var secret in secrets)
            if (secret is { Length: >= 4 }) text = text.Replace(secret, "***", StringComparison.Ordinal);
        return text;
    }

    private static void RequireName(string name)
    {
        if (!Core.Projects.ProjectNames.IsValid(name)) throw new ProjectException(Core.Projects.ProjectNames.Rule);
    }
}
