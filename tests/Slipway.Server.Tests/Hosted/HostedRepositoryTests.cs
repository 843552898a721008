using System.Net;
using Slipway.Contracts.Api;
using Slipway.Server.Tests.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Hosted;

/// <summary>
/// Hosted repositories through the real git CLI against the real server: clone, fetch and push over smart HTTP
/// with a user's API token as the password.
/// </summary>
public sealed class HostedRepositoryTests
{
    private static readonly IReadOnlyDictionary<string, string?> GitEnv = new Dictionary<string, string?>
    {
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_ASKPASS"] = "/bin/false",
    };

    internal static Task<ProcessResult> GitAsync(string? cwd, params string[] args) =>
        Task.Run(() => ProcessRunner.Run(GitRepository.GitPath,
            ["-c", "credential.helper=", "-c", "user.name=Dev", "-c", "user.email=dev@slipway.invalid", "-c", "commit.gpgsign=false", .. args],
            cwd, GitEnv, TimeSpan.FromSeconds(60)));

    internal static string Url(SlipwayTestServer server, string? token, string project = "shop")
    {
        var uri = new Uri(server.Url);
        var auth = token is null ? "" : $"x:{token}@";
        return $"{uri.Scheme}://{auth}{uri.Host}:{uri.Port}/git/{project}.git";
    }

    private static async Task CreateHostedAsync(SlipwayTestServer server, string name = "shop")
    {
        using var admin = Admin(server);
        await Expect(await admin.PostAsync("/api/v1/projects", Body(new { name, hosted = true })), HttpStatusCode.Created);
    }

    internal static async Task<string> CloneAsync(string url, TempDirectory dir)
    {
        var target = Path.Combine(dir.Path, "clone");
        var clone = await GitAsync(dir.Path, "clone", "--quiet", url, target);
        Assert.True(clone.ExitCode == 0, $"clone failed: {clone.StdErr}");
        return target;
    }

    internal static async Task CommitAsync(string clone, string file, string content, string message)
    {
        await File.WriteAllTextAsync(Path.Combine(clone, file), content);
        Assert.Equal(0, (await GitAsync(clone, "add", "--", file)).ExitCode);
        var commit = await GitAsync(clone, "commit", "--quiet", "-m", message);
        Assert.True(commit.ExitCode == 0, commit.StdErr);
    }

    [Fact]
    public async Task Developer_ClonesTheEmptyRepository_Pushes_AndTheRunStartsAtOnce_AndSucceeds()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
        await CreateHostedAsync(server);
        Assert.Empty(await server.Client.ListRunsAsync("shop")); // an empty project: no run until a push
        var dev = await UserWithRoleAsync(server, "dev", "developer", "shop");
        using var dir = new TempDirectory("slipway-hosted");
        var clone = await CloneAsync(Url(server, dev), dir);
        await GitAsync(clone, "checkout", "--quiet", "-b", "main");

        await CommitAsync(clone, ".slipway.yml", Pipelines.OneJob("echo built"), "first");
        var push = await GitAsync(clone, "push", "--quiet", "origin", "main");

        Assert.True(push.ExitCode == 0, $"push failed: {push.StdErr}");
        var run = Assert.Single(await server.Client.ListRunsAsync("shop")); // started by the push, not by a poll
        Assert.Equal("main", run.Branch);
        Assert.Equal("succeeded", (await server.WaitForRunAsync(run.Id)).Status.ToString().ToLowerInvariant());
        var audit = await AuditAsync(server, "action=repo.push");
        Assert.Contains(audit, e => e.Actor == "dev" && e.Outcome == "allowed");
    }

    [Fact]
    public async Task Viewer_CanCloneAndFetch_ButPushIsRefused403_AndAudited()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await CreateHostedAsync(server);
        var dev = await UserWithRoleAsync(server, "dev", "developer", "shop");
        var viewer = await UserWithRoleAsync(server, "vera", "viewer", "shop");
        using var dir = new TempDirectory("slipway-hosted");
        var devClone = await CloneAsync(Url(server, dev), dir);
        await GitAsync(devClone, "checkout", "--quiet", "-b", "main");
        await CommitAsync(devClone, ".slipway.yml", Pipelines.OneJob("true"), "first");
        Assert.Equal(0, (await GitAsync(devClone, "push", "--quiet", "origin", "main")).ExitCode);

        using var viewerDir = new TempDirectory("slipway-hosted");
        var clone = await CloneAsync(Url(server, viewer), viewerDir);
        Assert.True(File.Exists(Path.Combine(clone, ".slipway.yml")));
        Assert.Equal(0, (await GitAsync(clone, "fetch", "--quiet", "origin")).ExitCode);
        await CommitAsync(clone, "x.txt", "x", "viewer change");
        var push = await GitAsync(clone, "push", "origin", "HEAD:refs/heads/feature/x");

        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("403", push.StdErr);
        Assert.Contains(await AuditAsync(server, "action=repo.push"), e => e.Actor == "vera" && e.Outcome == "denied");
        Assert.DoesNotContain(await server.Client.ListBranchesAsync("shop"), b => b.Name == "feature/x");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("slp_wrongwrongwrongwrongwrongwrong")]
    [InlineData("slpa_notauserstokennotauserstoken")]
    [InlineData("slpr_notauserstokennotauserstoken")]
    public async Task NoOrWrongOrNonUserCredential_Is401_WithABasicChallenge(string? token)
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await CreateHostedAsync(server);
        using var dir = new TempDirectory("slipway-hosted");

        var clone = await GitAsync(dir.Path, "clone", "--quiet", Url(server, token), Path.Combine(dir.Path, "c"));

        Assert.NotEqual(0, clone.ExitCode);
        using var http = Http(server);
        var request = new HttpRequestMessage(HttpMethod.Get, "/git/shop.git/info/refs?service=git-upload-pack");
        if (token is not null)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("x:" + token)));
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic realm=\"slipway\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task AUserToken_AsBasicPassword_IsAccepted_AnAgentsNever()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await CreateHostedAsync(server);
        using var http = Http(server);
        var request = new HttpRequestMessage(HttpMethod.Get, "/git/shop.git/info/refs?service=git-upload-pack");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("anyone:" + SlipwayTestServer.AdminToken)));

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-git-upload-pack-advertisement", response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<(SlipwayTestServer Server, string Dev, string Clone, TempDirectory Dir)> PushedMainAsync()
    {
        var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await CreateHostedAsync(server);
        var dev = await UserWithRoleAsync(server, "dev", "developer", "shop");
        var dir = new TempDirectory("slipway-hosted");
        var clone = await CloneAsync(Url(server, dev), dir);
        await GitAsync(clone, "checkout", "--quiet", "-b", "main");
        await CommitAsync(clone, ".slipway.yml", Pipelines.OneJob("true"), "first");
        var first = await GitAsync(clone, "push", "--quiet", "origin", "main");
        Assert.True(first.ExitCode == 0, first.StdErr); // creating main in the empty repository is the one allowed push to it
        return (server, dev, clone, dir);
    }

    [Fact]
    public async Task PushToTheReleaseBranch_IsRefused_NamingTheRule_AndAudited_WhileOtherBranchesPush()
    {
        var (server, _, clone, dir) = await PushedMainAsync();
        await using var _s = server;
        using var _d = dir;
        var mainBefore = (await server.Client.ListBranchesAsync("shop")).Single(b => b.Name == "main").Head;
        await CommitAsync(clone, "a.txt", "a", "direct to main");

        var push = await GitAsync(clone, "push", "origin", "main");

        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("[remote rejected]", push.StdErr);
        Assert.Contains("branch 'main' is protected", push.StdErr);
        var head = (await GitAsync(clone, "ls-remote", "origin", "refs/heads/main")).StdOut.Split('\t')[0];
        Assert.Equal(mainBefore, head);
        Assert.Contains(await AuditAsync(server, "action=repo.push"),
            e => e.Actor == "dev" && e.Outcome == "denied" && (e.Detail ?? "").Contains("branch 'main' is protected"));

        var feature = await GitAsync(clone, "push", "--quiet", "origin", "HEAD:refs/heads/feature/SHOP-1-x");
        Assert.True(feature.ExitCode == 0, feature.StdErr);
        Assert.Contains(await server.Client.ListRunsAsync("shop"), r => r.Branch == "feature/SHOP-1-x");
        // Force-pushing one's own unprotected branch is allowed.
        await GitAsync(clone, "reset", "--quiet", "--hard", "HEAD~1");
        await CommitAsync(clone, "b.txt", "b", "rewritten");
        Assert.Equal(0, (await GitAsync(clone, "push", "--quiet", "--force", "origin", "HEAD:refs/heads/feature/SHOP-1-x")).ExitCode);
    }

    [Fact]
    public async Task ABranchAnAdminProtects_RefusesPushForcePushAndDeletion_AndOnlyAnAdminMayProtect()
    {
        var (server, dev, clone, dir) = await PushedMainAsync();
        await using var _s = server;
        using var _d = dir;
        Assert.Equal(0, (await GitAsync(clone, "push", "--quiet", "origin", "HEAD:refs/heads/stable")).ExitCode);
        using (var asDev = Http(server, dev))
            Assert.Equal(HttpStatusCode.Forbidden, (await asDev.PutAsync("/api/v1/projects/shop/protected-branches/stable", Body("{}"))).StatusCode);
        using (var admin = Admin(server))
        {
            await Expect(await admin.PutAsync("/api/v1/projects/shop/protected-branches/stable", Body("{}")), HttpStatusCode.OK);
            await Expect(await admin.PutAsync("/api/v1/projects/shop/protected-branches/release/2", Body("{}")), HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsync("/api/v1/projects/shop/protected-branches/a..b", Body("{}"))).StatusCode);
            var list = await ReadAsync<List<string>>(await admin.GetAsync("/api/v1/projects/shop/protected-branches"));
            Assert.Equal(["main", "release/2", "stable"], list.Order());
        }

        await CommitAsync(clone, "c.txt", "c", "more");
        var push = await GitAsync(clone, "push", "origin", "HEAD:refs/heads/stable");
        var create = await GitAsync(clone, "push", "origin", "HEAD:refs/heads/release/2");
        await GitAsync(clone, "reset", "--quiet", "--hard", "HEAD~1");
        await CommitAsync(clone, "d.txt", "d", "rewritten");
        var force = await GitAsync(clone, "push", "--force", "origin", "HEAD:refs/heads/stable");
        var delete = await GitAsync(clone, "push", "origin", "--delete", "stable");

        Assert.Contains("branch 'stable' is protected", push.StdErr);
        Assert.Contains("branch 'release/2' is protected", create.StdErr);
        Assert.Contains("branch 'stable' is protected", force.StdErr);
        Assert.Contains("branch 'stable' is protected: it cannot be deleted", delete.StdErr);
        Assert.All(new[] { push, create, force, delete }, r => Assert.NotEqual(0, r.ExitCode));
        Assert.Equal(["main", "stable"], (await server.Client.ListBranchesAsync("shop")).Select(b => b.Name).Order());
    }

    [Fact]
    public async Task ARealAgentCredentialAndRegistrationToken_AsPassword_CannotClone()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await CreateHostedAsync(server);
        var registration = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var registrar = Http(server, registration.Token);
        var answer = await registrar.PostAsync("/api/v1/agent/register",
            Body($$"""{"protocolVersion":{{Slipway.Contracts.ProtocolVersion.Current}},"name":"worker","pool":"build","labels":[],"slots":1}"""));
        var credential = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("credential").GetString()!;
        var spare = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var dir = new TempDirectory("slipway-hosted");

        foreach (var secret in new[] { credential, spare.Token })
        {
            var clone = await GitAsync(dir.Path, "clone", "--quiet", Url(server, secret), Path.Combine(dir.Path, Guid.NewGuid().ToString("N")));
            Assert.NotEqual(0, clone.ExitCode);
            Assert.Contains("Authentication failed", clone.StdErr); // git's words for a 401 to the credential it sent
        }
        Assert.Contains(await AuditAsync(server, "action=repo.read"), e => e.Outcome == "denied" && e.Detail!.StartsWith("no valid credential: "));
    }

    [Fact]
    public async Task AFetchWithALargeGzippedNegotiation_Works()
    {
        var (server, dev, clone, dir) = await PushedMainAsync();
        await using var _s = server;
        using var _d = dir;
        using var otherDir = new TempDirectory("slipway-hosted");
        var other = await CloneAsync(Url(server, dev), otherDir);
        await CommitAsync(other, "new.txt", "new", "on the server");
        Assert.Equal(0, (await GitAsync(other, "push", "--quiet", "origin", "HEAD:refs/heads/feature/new")).ExitCode);
        // Many "have" lines. Their commit dates are strictly later than origin/main's, so git's date-ordered walk offers
        // them before the common commit and the negotiation takes several rounds, each request over git's 1 KiB gzip
        // threshold; with equal dates (same second) the common commit could come first and one small request suffice.
        for (var i = 0; i < 80; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(clone, $"local{i}.txt"), "x");
            Assert.Equal(0, (await GitAsync(clone, "add", "--", $"local{i}.txt")).ExitCode);
            var dated = new Dictionary<string, string?>(GitEnv) { ["GIT_COMMITTER_DATE"] = $"{4_000_000_000L + i * 60} +0000" };
            var commit = await Task.Run(() => ProcessRunner.Run(GitRepository.GitPath,
                ["-c", "user.name=Dev", "-c", "user.email=dev@slipway.invalid", "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", $"local {i}"],
                clone, dated, TimeSpan.FromSeconds(60)));
            Assert.True(commit.ExitCode == 0, commit.StdErr);
        }

        var fetch = await Task.Run(() => ProcessRunner.Run(GitRepository.GitPath,
            ["-c", "credential.helper=", "-c", "protocol.version=0", "fetch", "origin"], clone,
            new Dictionary<string, string?>(GitEnv) { ["GIT_TRACE_CURL"] = "1", ["GIT_TRACE_CURL_NO_DATA"] = "1" }, TimeSpan.FromSeconds(60)));

        Assert.True(fetch.ExitCode == 0, fetch.StdErr);
        Assert.Contains("Content-Encoding: gzip", fetch.StdErr);
        Assert.Contains("feature/new", fetch.StdErr);
    }

    /// <summary>The ref a tag points at on the server (empty when it has none).</summary>
    private static async Task<string> RemoteTagAsync(string clone, string tag) =>
        (await GitAsync(clone, "ls-remote", "origin", "refs/tags/" + tag)).StdOut.Split('\t')[0].Trim();

    [Fact]
    public async Task ADeveloperCannotCreateMoveOrDeleteAReleaseTag_AnAdminCreatesOne_ButNobodyMovesOrDeletesIt()
    {
        var (server, _, clone, dir) = await PushedMainAsync();
        await using var _s = server;
        using var _d = dir;
        var first = (await GitAsync(clone, "rev-parse", "HEAD")).StdOut.Trim();
        await CommitAsync(clone, "b.txt", "b", "second");
        Assert.Equal(0, (await GitAsync(clone, "tag", "v9.9.9")).ExitCode);

        // A developer: the release tag is refused whole, even together with a branch push; other tags are free.
        var create = await GitAsync(clone, "push", "origin", "refs/tags/v9.9.9", "HEAD:refs/heads/feature/with-tag");
        Assert.Equal(0, (await GitAsync(clone, "tag", "nightly")).ExitCode);
        var nightly = await GitAsync(clone, "push", "--quiet", "origin", "refs/tags/nightly");
        var nightlyDelete = await GitAsync(clone, "push", "--quiet", "origin", "--delete", "refs/tags/nightly");

        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("tag 'v9.9.9' is protected (release tags matching 'v*'): only users who may protect branches (repo.protect) can create it", create.StdErr);
        Assert.Equal("", await RemoteTagAsync(clone, "v9.9.9"));
        Assert.DoesNotContain(await server.Client.ListBranchesAsync("shop"), b => b.Name == "feature/with-tag");
        Assert.Contains(await AuditAsync(server, "action=repo.push&outcome=denied"), e => e.Actor == "dev" && e.Detail!.Contains("tag 'v9.9.9' is protected"));
        Assert.True(nightly.ExitCode == 0 && nightlyDelete.ExitCode == 0, nightly.StdErr + nightlyDelete.StdErr);

        // An admin (repo.protect) makes the release tag by push; that is audited.
        using var adminDir = new TempDirectory("slipway-hosted");
        var adminClone = await CloneAsync(Url(server, SlipwayTestServer.AdminToken), adminDir);
        Assert.Equal(0, (await GitAsync(adminClone, "tag", "v9.9.9", first)).ExitCode);
        var made = await GitAsync(adminClone, "push", "--quiet", "origin", "refs/tags/v9.9.9");
        Assert.True(made.ExitCode == 0, made.StdErr);
        Assert.Equal(first, await RemoteTagAsync(clone, "v9.9.9"));
        Assert.Contains(await AuditAsync(server, "action=repo.push&outcome=succeeded"),
            e => e.Actor == "admin" && e.Detail!.StartsWith("protected release tag(s) created by push: v9.9.9"));

        // Nobody moves or deletes it by push, not even the admin.
        var move = await GitAsync(clone, "push", "--force", "origin", "refs/tags/v9.9.9");
        var delete = await GitAsync(clone, "push", "origin", "--delete", "refs/tags/v9.9.9");
        await CommitAsync(adminClone, "c.txt", "c", "admin's");
        Assert.Equal(0, (await GitAsync(adminClone, "tag", "-f", "v9.9.9")).ExitCode);
        var adminMove = await GitAsync(adminClone, "push", "--force", "origin", "refs/tags/v9.9.9");
        var adminDelete = await GitAsync(adminClone, "push", "origin", "--delete", "refs/tags/v9.9.9");

        Assert.Contains("tag 'v9.9.9' is protected (release tags matching 'v*'): it cannot be moved", move.StdErr);
        Assert.Contains("tag 'v9.9.9' is protected (release tags matching 'v*'): it cannot be deleted", delete.StdErr);
        Assert.Contains("it cannot be moved", adminMove.StdErr);
        Assert.Contains("it cannot be deleted", adminDelete.StdErr);
        Assert.All(new[] { move, delete, adminMove, adminDelete }, r => Assert.NotEqual(0, r.ExitCode));
        Assert.Equal(first, await RemoteTagAsync(clone, "v9.9.9"));

        // The protected patterns are the project's setting: protecting rel-* protects rel-1 from then on.
        await server.Client.SetReleaseBranchesAsync("shop", null, ["v*", "rel-*"]);
        Assert.Equal(0, (await GitAsync(clone, "tag", "rel-1")).ExitCode);
        var rel = await GitAsync(clone, "push", "origin", "refs/tags/rel-1");
        Assert.Contains("tag 'rel-1' is protected (release tags matching 'rel-*')", rel.StdErr);
    }
}
