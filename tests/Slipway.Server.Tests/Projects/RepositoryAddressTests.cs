using System.Diagnostics;
using System.Net;
using Dapper;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Projects;

/// <summary>
/// Repository addresses (issue 11, finding 5): a credential in an http(s) address is split out at creation and never shown
/// again; a stored address that still holds one is fixed at start; transports other than https, http, ssh, git and (for
/// admins) local paths outside the data folder are refused at once. The remote is a hosted repository of the same server,
/// reached over real smart HTTP with a real token as the password.
/// </summary>
public sealed class RepositoryAddressTests
{
    /// <summary>A hosted project "origin" holding a one-job pipeline on main; returns its URL (no credential) and a developer's token.</summary>
    private static async Task<(string Url, string Token)> OriginAsync(SlipwayTestServer server)
    {
        using var admin = Admin(server);
        await Expect(await admin.PostAsync("/api/v1/projects", Body(new { name = "origin", hosted = true })), HttpStatusCode.Created);
        var token = await UserWithRoleAsync(server, "pusher", BuiltInRoles.Developer);
        var uri = new Uri(server.Url);
        using var seed = Pipelines.Repo(Pipelines.OneJob("echo from-origin"));
        seed.Run("push", "-q", $"http://x:{token}@{uri.Host}:{uri.Port}/git/origin.git", "main");
        return ($"http://{uri.Host}:{uri.Port}/git/origin.git", token);
    }

    private static string WithCredential(string url, string userInfo) => url.Replace("http://", $"http://{userInfo}@");

    [Fact]
    public async Task ACredentialInTheAddress_IsSplitOut_AndAppearsInNoAnswerPageAuditEntryErrorOrMirrorConfig()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        var (origin, token) = await OriginAsync(server);
        using var admin = Admin(server);

        var created = await ReadAsync<ProjectCreatedDto>(await Expect(await admin.PostAsync("/api/v1/projects",
            Body(new { name = "ext", repo = WithCredential(origin, "x:" + token) })), HttpStatusCode.Created));

        Assert.Equal(origin, created.Repo);
        Assert.Equal("succeeded", (await server.WaitForRunAsync((await server.Client.ListRunsAsync("ext")).Single().Id)).Status);
        // Fetches go on working with the stored credential: a new branch on the origin is found and run.
        using (var more = Pipelines.Repo(Pipelines.OneJob("echo second")))
        {
            more.Run("checkout", "-q", "-b", "feature/more");
            more.Run("push", "-q", "--force", WithCredential(origin, "x:" + token), "feature/more");
        }
        var project = (await server.Service<ProjectStore>().FindAsync("ext"))!;
        Assert.Equal(1, await server.Service<ChangeDetector>().CheckAsync(project));
        Assert.Null((await server.Client.ListProjectsAsync()).Single(p => p.Name == "ext").LastFetchError);
        Assert.Equal("x", project.GitUsername);
        Assert.DoesNotContain(token, project.GitPasswordProtected!);

        // A wrong credential in the address: git's error comes back with neither the address's credential nor the password.
        const string Wrong = "slp_wrong-but-long-secret-value";
        var refused = await admin.PostAsync("/api/v1/projects", Body(new { name = "ext2", repo = WithCredential(origin, "x:" + Wrong) }));
        var refusal = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"cannot fetch {origin}", refusal);
        // A token as the user name is a credential too.
        var tokenOnly = await admin.PostAsync("/api/v1/projects", Body(new { name = "ext3", repo = WithCredential(origin.Replace("origin", "missing"), Wrong) }));
        Assert.Equal(HttpStatusCode.BadRequest, tokenOnly.StatusCode);
        var tokenRefusal = await tokenOnly.Content.ReadAsStringAsync();

        var seen = new List<string>
        {
            refusal, tokenRefusal,
            await (await admin.GetAsync("/api/v1/projects")).Content.ReadAsStringAsync(),
            await (await admin.GetAsync("/api/v1/projects/ext")).Content.ReadAsStringAsync(),
            await (await Expect(await admin.GetAsync("/projects/ext"), HttpStatusCode.OK)).Content.ReadAsStringAsync(),
            await (await Expect(await admin.GetAsync("/"), HttpStatusCode.OK)).Content.ReadAsStringAsync(),
            await File.ReadAllTextAsync(Path.Combine(server.Options.FullDataDirectory, "mirrors", "ext.git", "config")),
        };
        using (var export = new MemoryStream())
        {
            await server.Client.ExportAuditAsync("json", export);
            seen.Add(System.Text.Encoding.UTF8.GetString(export.ToArray()));
        }
        foreach (var text in seen)
        {
            Assert.DoesNotContain(token, text);
            Assert.DoesNotContain(Wrong, text);
        }
        Assert.Contains(await AuditAsync(server, "action=project.create&outcome=succeeded"),
            e => e.Target == "project:ext" && e.Detail!.Contains("taken out of it and stored encrypted"));
    }

    [Fact]
    public async Task AStoredAddressHoldingACredential_IsFixedAtStart_AndFetchesStillWork()
    {
        using var data = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort.Get()}";
        string origin, token;
        await using (var first = await SlipwayTestServer.StartAsync(o => o.Urls = url, data.Path))
        {
            (origin, token) = await OriginAsync(first);
            await first.Client.CreateProjectAsync("legacy", origin, "main", "x", token);
            // As a project made before addresses were checked: the credential in the address and the mirror's config only.
            var withToken = WithCredential(origin, "x:" + token);
            await first.Service<SqlDatabase>().WriteAsync((c, tx) => c.ExecuteAsync(
                "UPDATE projects SET repo_url = @withToken, git_username = NULL, git_password_protected = NULL WHERE name = 'legacy'", new { withToken }, tx));
            await GitCli.OutputAsync(Path.Combine(first.Options.FullDataDirectory, "mirrors", "legacy.git"), ["config", "remote.origin.url", withToken],
                TimeSpan.FromSeconds(30));
        }

        await using var second = await SlipwayTestServer.StartAsync(o => o.Urls = url, data.Path);

        var project = (await second.Service<ProjectStore>().FindAsync("legacy"))!;
        Assert.Equal(origin, project.RepoUrl);
        Assert.Equal("x", project.GitUsername);
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(Path.Combine(data.Path, "mirrors", "legacy.git", "config")));
        using (var admin = Admin(second))
            Assert.DoesNotContain(token, await (await admin.GetAsync("/api/v1/projects/legacy")).Content.ReadAsStringAsync());
        await second.Service<ChangeDetector>().CheckAsync(project);
        Assert.Null((await second.Service<ProjectStore>().FindAsync("legacy"))!.LastFetchError);
        var entry = Assert.Single(await AuditAsync(second, "action=repo.credential&target=project:legacy"));
        Assert.Equal(("system", "succeeded"), (entry.ActorKind, entry.Outcome));
        Assert.DoesNotContain(token, entry.Detail);
    }

    [Theory]
    [InlineData("ext::sh -c touch% {0}")]
    [InlineData("fd::17")]
    [InlineData("fd::17/repo")]
    [InlineData("ftp://127.0.0.1/repo.git")]
    [InlineData("ext::sh -c touch% {0}% >&2")]
    public async Task UnsupportedTransports_AreRefusedAtOnce_AndRunNothing(string repo)
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var marker = new TempDirectory();
        var file = Path.Combine(marker.Path, "pwned");
        using var admin = Admin(server);
        var clock = Stopwatch.StartNew();

        var answer = await admin.PostAsync("/api/v1/projects", Body(new { name = "evil", repo = string.Format(repo, file) }));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Matches("is not (allowed|supported)", await answer.Content.ReadAsStringAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.False(File.Exists(file));
        Assert.Empty(await server.Client.ListProjectsAsync());
    }

    [Fact]
    public async Task GitItself_RefusesRemoteHelpers_AndLocalPathsUnlessAllowed()
    {
        using var marker = new TempDirectory();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        var file = Path.Combine(marker.Path, "pwned");
        var timeout = TimeSpan.FromSeconds(30);

        var ext = await GitCli.RunAsync(marker.Path, ["clone", "--bare", "--", $"ext::sh -c touch% {file}", "a"], timeout);
        var local = await GitCli.RunAsync(marker.Path, ["clone", "--bare", "--", repo.Path, "b"], timeout);
        var allowed = await GitCli.RunAsync(marker.Path, ["clone", "--bare", "--", repo.Path, "c"], timeout,
            env: new Dictionary<string, string> { ["GIT_ALLOW_PROTOCOL"] = GitCli.AllowedProtocols(local: true) });

        Assert.Contains("transport 'ext' not allowed", ext.Stderr);
        Assert.False(File.Exists(file));
        Assert.Contains("transport 'file' not allowed", local.Stderr);
        Assert.True(allowed.Ok, allowed.Stderr);
    }

    [Fact]
    public async Task LocalPaths_NeedProjectLocalRepo_AndThePathsOfTheDataFolderAreRefusedToEveryone()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var (origin, token) = await OriginAsync(server);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await CreateRoleAsync(server, "creator", Actions.ProjectCreate, Actions.ProjectRead);
        var creator = Http(server, await UserWithRoleAsync(server, "creator-user", "creator"));
        using var admin = Admin(server);

        // A user who may create projects, but not from the server's disk.
        foreach (var local in new[] { repo.Path, "file://" + repo.Path })
        {
            var refused = await creator.PostAsync("/api/v1/projects", Body(new { name = "mine", repo = local }));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("project.local-repo", await refused.Content.ReadAsStringAsync());
        }
        Assert.Contains(await AuditAsync(server, "action=project.local-repo&outcome=denied"), e => e.Actor == "creator-user");
        await Expect(await creator.PostAsync("/api/v1/projects", Body(new { name = "mine", repo = WithCredential(origin, "x:" + token) })), HttpStatusCode.Created);

        // Nobody names the data folder or anything in it, also not through a symbolic link or a dotted path.
        var dataFolder = server.Options.FullDataDirectory;
        using var links = new TempDirectory();
        File.CreateSymbolicLink(Path.Combine(links.Path, "data"), dataFolder);
        foreach (var inside in new[]
                 {
                     dataFolder, Path.Combine(dataFolder, "hosted", "origin.git"), Path.Combine(dataFolder, "mirrors", "mine.git"),
                     "file://" + Path.Combine(dataFolder, "hosted", "origin.git"), Path.Combine(links.Path, "data", "hosted", "origin.git"),
                     Path.Combine(repo.Path, "..", Path.GetRelativePath(Path.GetDirectoryName(repo.Path)!, dataFolder), "hosted", "origin.git"),
                 })
        {
            var refused = await admin.PostAsync("/api/v1/projects", Body(new { name = "stolen", repo = inside }));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("inside Slipway's data folder", await refused.Content.ReadAsStringAsync());
        }

        // The admin may use any other path; hosted projects go on working.
        await Expect(await admin.PostAsync("/api/v1/projects", Body(new { name = "local", repo = repo.Path })), HttpStatusCode.Created);
        await Expect(await admin.PostAsync("/api/v1/projects", Body(new { name = "hosted2", hosted = true })), HttpStatusCode.Created);
        Assert.Equal(["hosted2", "local", "mine", "origin"], (await server.Client.ListProjectsAsync()).Select(p => p.Name));
        creator.Dispose();
    }
}
