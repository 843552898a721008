using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Server.Git;
using Slipway.Server.Hosting;
using Slipway.Server.Projects;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.Hosted.HostedRepositoryTests;

namespace Slipway.Server.Tests.Secrets;

/// <summary>
/// A branch name protected after someone pushed to it (release/2 planted by a developer, then reset to main and protected
/// by an admin) and the attacks a review found around the first fix: a run started before the next poll, a release of the
/// old run, a run left without the flag, and a push the recorder could not attribute. Each is refused now.
/// </summary>
public sealed class LateProtectionTests
{
    private const string Key = "pr0d-deploy-key-value";
    private const string KeyBytes = "70 72 30 64"; // "pr0d" as od prints it

    private const string MainPipeline = "stages:\n  - name: s\n    jobs:\n      - name: use\n        secrets: [DEPLOY_KEY]\n        run: echo ok\n";

    private const string Planted = """
        stages:
          - name: s
            jobs:
              - name: leak
                secrets: [DEPLOY_KEY]
                run: printf %s "$DEPLOY_KEY" | od -An -tx1
        release:
          version: "2.0.{run}"
        """;

    /// <summary>main with a job using the key; release/2 planted by a developer; a server with the project.</summary>
    private static async Task<(SlipwayTestServer Server, GitRepository Repo, SlipwayClient Dave)> PlantedAsync(string planted = Planted)
    {
        var repo = Pipelines.Repo(MainPipeline);
        repo.Run("checkout", "-q", "-b", "release/2");
        repo.WriteFile(".slipway.yml", planted);
        repo.Commit("planted");
        repo.Checkout("main");
        var server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
        await server.WaitForRunAsync(await server.CreateProjectAsync("shop", repo.Path));
        return (server, repo, new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dave", BuiltInRoles.Developer, "shop")));
    }

    /// <summary>The admin resets release/2 to main and protects it (the repository has moved; the server has not fetched yet).</summary>
    private static async Task ProtectAsync(SlipwayTestServer server, GitRepository repo, bool releases = false)
    {
        repo.Run("branch", "-f", "release/2", "main");
        await server.Client.ProtectBranchAsync("shop", "release/2");
        if (releases) await server.Client.SetReleaseBranchesAsync("shop", ["main", "release/2"]);
        await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Key, secret: true);
    }

    [Fact]
    public async Task ARunStartedByHandBeforeTheNextPoll_BuildsTheProtectedBranchAsItIsNow()
    {
        var (server, repo, dave) = await PlantedAsync();
        await using var _ = server;
        using var __ = repo;
        using var ___ = dave;
        await ProtectAsync(server, repo);

        var run = await server.WaitForRunAsync((await dave.StartRunAsync("shop", "release/2", null)).Id);

        Assert.Equal(repo.Run("rev-parse", "main").Trim(), run.Commit); // fetched first: main's commit, not the planted one
        Assert.Equal("succeeded", run.Status);
        Assert.DoesNotContain(run.Stages.SelectMany(s => s.Jobs), j => j.Name == "leak");
    }

    [Fact]
    public async Task ARunMadeBeforeItsBranchWasProtected_IsNotReleasedOnceTheNameWasResetAway()
    {
        var (server, repo, dave) = await PlantedAsync(Planted.Replace("secrets: [DEPLOY_KEY]", "env: { NOTE: unreviewed }"));
        await using var _ = server;
        using var __ = repo;
        using var ___ = dave;
        var old = await server.WaitForRunAsync((await dave.StartRunAsync("shop", "release/2", null)).Id);
        Assert.Equal("succeeded", old.Status);
        await ProtectAsync(server, repo, releases: true);

        var refused = await Assert.ThrowsAsync<SlipwayApiException>(() => dave.CreateReleaseAsync("shop", old.Id));

        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Contains("commit-on-branch", refused.Message);
        Assert.Empty(await server.Client.ListReleasesAsync("shop"));
    }

    [Fact]
    public async Task ARunWithoutTheFlag_AsAnOlderNodeWritesIt_GetsNoProtectedValue()
    {
        var (server, repo, _) = await PlantedAsync();
        await using var __ = server;
        using var ___ = repo;
        var old = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "release/2", null)).Id);
        await server.Service<SqlDatabase>().WriteAsync((c, tx) => Dapper.SqlMapper.ExecuteAsync(c,
            "UPDATE runs SET branch_protected = NULL WHERE id = @id", new { id = old.Id }, tx));
        await ProtectAsync(server, repo);
        await server.Service<ChangeDetector>().CheckAsync((await server.Service<ProjectStore>().FindAsync("shop"))!);

        await server.Client.RetryRunAsync(old.Id, null);
        var retried = await server.WaitForRunAsync(old.Id);

        Assert.Equal("failed", retried.Status);
        Assert.DoesNotContain(KeyBytes, await server.LogAsync(retried.Id, "leak"));
    }

    /// <summary>50 000 refs: more tips than a command line holds. The recorder still attributes the push.</summary>
    [Fact]
    public async Task APushIntoARepositoryWithManyRefs_IsStillAttributed_AndItsPusherMayNotApprove()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var dir = new TempDirectory("slipway-late-a");
        var (aliceApi, change, mallory) = await Hosted.PushedCommitsTests.AliceOpensAChangeAsync(server, dir);
        using var _ = aliceApi;

        // 50 000 tags on distinct root commits, written straight into the hosted repository (pushing them is slow in a test).
        using var mdir = new TempDirectory("slipway-late-m");
        var stream = new System.Text.StringBuilder();
        for (var i = 0; i < 50_000; i++) stream.Append($"commit refs/tags/t{i}\ncommitter M <m@x> 0 +0000\ndata {i.ToString().Length}\n{i}\n\n");
        var hosted = Path.Combine(ProjectService.HostedRoot(server.Service<ServerOptions>()), "shop.git");
        var file = Path.Combine(mdir.Path, "tags.fi");
        await File.WriteAllTextAsync(file, stream.ToString());
        var import = ProcessRunner.Run("/bin/sh", ["-c", "exec \"$0\" fast-import --quiet < \"$1\"", GitRepository.GitPath, file], hosted, null, TimeSpan.FromMinutes(2));
        Assert.True(import.ExitCode == 0, import.StdErr);

        var backdoor = await Hosted.PushedCommitsTests.ForgedPushAsync(server, mallory, mdir);

        using var malloryApi = new SlipwayClient(server.Url, mallory);
        var shown = await aliceApi.GetChangeRequestAsync("shop", change);
        Assert.Equal(["mallory"], shown.Commits.Single(c => c.Sha == backdoor).PushedBy);
        var refused = await Assert.ThrowsAsync<SlipwayApiException>(() => malloryApi.ReviewChangeRequestAsync("shop", change, "approve", null));
        Assert.Contains("mallory pushed commit", refused.Message);
    }
}
