using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Releases;

/// <summary>
/// Issue 11, findings 2 and 3: a branch cannot release itself, and a run "on main" builds only code that is on main.
/// Hostile pipeline files in real repositories, run by the embedded agent.
/// </summary>
public sealed class ReleaseBranchTests
{
    private const string MainPipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: echo "built $SLIPWAY_BRANCH"
        release:
          branch: main
          version: "1.0.{run}"
        deploy:
          run: echo "the reviewed deployment"
        """;

    /// <summary>What a developer's branch says to ship itself, with its own unreviewed deployment script.</summary>
    private const string HostileBranchPipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: echo "built by a branch"
        release:
          branch: feature/x
          version: "9.9.{run}"
        deploy:
          run: echo "an unreviewed deployment with production's secrets"
        """;

    private static async Task<(SlipwayTestServer Server, GitRepository Repo)> ShopAsync(string pipeline = MainPipeline)
    {
        var server = await SlipwayTestServer.StartAsync();
        var repo = Pipelines.Repo(pipeline);
        var first = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        Assert.Equal("succeeded", first.Status);
        return (server, repo);
    }

    /// <summary>Lets the server see the repository's new commits (as a push webhook would) and waits for the run of the branch's head.</summary>
    private static async Task<RunDto> RunOfHeadAsync(SlipwayTestServer server, GitRepository repo, string branch)
    {
        await DetectAsync(server);
        var head = repo.Run("rev-parse", branch).Trim();
        var run = (await server.Client.ListRunsAsync("shop")).Where(r => r.Branch == branch && r.Commit == head).MaxBy(r => r.Id)
                  ?? throw new InvalidOperationException($"no run of {branch} at {head}");
        return await server.WaitForRunAsync(run.Id);
    }

    private static async Task DetectAsync(SlipwayTestServer server) =>
        await server.Service<ChangeDetector>().CheckAsync((await server.Service<ProjectStore>().FindAsync("shop"))!);

    /// <summary>One pass of the release creator, rather than hoping a timed one happened.</summary>
    private static Task CreatePendingReleasesAsync(SlipwayTestServer server) =>
        server.App.Services.GetServices<IHostedService>().OfType<ReleaseCreator>().Single().CreatePendingAsync(CancellationToken.None);

    private static async Task<ReleaseSummaryDto> ReleaseOfAsync(SlipwayTestServer server, long runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if ((await server.Client.ListReleasesAsync("shop")).FirstOrDefault(r => r.RunId == runId) is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no release of run {runId}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task ABranchWhosePipelineNamesItselfTheReleaseBranch_RunsGreen_MakesNoRelease_AndShowsTheWarning()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        await ReleaseOfAsync(server, (await server.Client.ListRunsAsync("shop")).Single().Id);
        repo.Run("checkout", "-q", "-b", "feature/x");
        repo.WriteFile(".slipway.yml", HostileBranchPipeline);
        repo.Commit("ship myself");
        using var developer = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev", BuiltInRoles.Developer));

        var run = await RunOfHeadAsync(server, repo, "feature/x");
        await CreatePendingReleasesAsync(server);
        var byHand = await Assert.ThrowsAsync<SlipwayApiException>(() => developer.CreateReleaseAsync("shop", run.Id));

        Assert.Equal("succeeded", run.Status);
        var release = Assert.Single(await server.Client.ListReleasesAsync("shop")); // only main's first release
        Assert.Equal(("main", "1.0.1"), (release.Branch, release.Version));
        Assert.Contains(run.Warnings!, w => w.Contains(
            "release.branch in the pipeline file names this branch ('feature/x'), which is not one of the project's release branches (main); " +
            "the project's settings decide which branches release, not the file, so this run makes no release"));
        Assert.Equal(HttpStatusCode.Conflict, byHand.Status);
        Assert.Contains($"release-branch: run #{run.Number} is on branch 'feature/x', which is not one of the project's release branches (main)", byHand.Message);
        // The warning is on the run page too.
        using var admin = Admin(server);
        var page = await (await Expect(await admin.GetAsync($"/runs/{run.Id}"), HttpStatusCode.OK)).Content.ReadAsStringAsync();
        Assert.Contains("warning: release.branch in the pipeline file names this branch", page);
    }

    [Fact]
    public async Task ReleaseBranches_AreProjectSettings_OnlyProtectedBranches_SetWithRepoProtect_Audited_AndASecondReleaseBranchReleases()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        repo.CreateBranch("release/2.x");
        await DetectAsync(server);
        using var developer = Http(server, await UserWithRoleAsync(server, "dev", BuiltInRoles.Developer));
        using var admin = Admin(server);

        var defaults = await server.Client.GetReleaseBranchesAsync("shop");
        var byDeveloper = await developer.PutAsync("/api/v1/projects/shop/release-branches", Body(new SetReleaseBranchesRequest(["main", "release/2.x"])));
        var unprotected = await admin.PutAsync("/api/v1/projects/shop/release-branches", Body(new SetReleaseBranchesRequest(["main", "release/2.x"])));
        var none = await admin.PutAsync("/api/v1/projects/shop/release-branches", Body(new SetReleaseBranchesRequest([])));
        var badTag = await admin.PutAsync("/api/v1/projects/shop/release-branches", Body(new SetReleaseBranchesRequest(null, ["rel["])));
        var badName = await admin.PutAsync("/api/v1/projects/shop/release-branches", Body(new SetReleaseBranchesRequest(["a..b"])));
        await server.Client.ProtectBranchAsync("shop", "release/2.x");
        // Made with the default in view (the epoch: never set), then a change made by someone who read the old setting.
        var set = await ReadAsync<ReleaseBranchesDto>(await Expect(await admin.PutAsync("/api/v1/projects/shop/release-branches",
            Body(new SetReleaseBranchesRequest(["main", "release/2.x"], null, DateTimeOffset.UnixEpoch))), HttpStatusCode.OK));
        var stale = await admin.PutAsync("/api/v1/projects/shop/release-branches", Body(new SetReleaseBranchesRequest(null, ["rel-*"], DateTimeOffset.UnixEpoch)));
        var seen = await admin.PutAsync("/api/v1/projects/shop/release-branches", Body(new SetReleaseBranchesRequest(null, ["v*"], set.UpdatedAt)));

        Assert.Equal(["main"], defaults.Branches);
        Assert.Equal(["v*"], defaults.ProtectedTags);
        Assert.Equal(["main"], defaults.ProtectedBranches);
        Assert.True(defaults.Default);
        Assert.Equal(HttpStatusCode.Forbidden, byDeveloper.StatusCode);
        await Expect(unprotected, HttpStatusCode.Conflict);
        var refusal = await unprotected.Content.ReadAsStringAsync();
        Assert.Contains("branch 'release/2.x' is not protected, and only protected branches can release", refusal);
        Assert.Contains("slipway project protect shop release/2.x", refusal);
        Assert.All(new[] { none, badTag, badName }, r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Contains("unclosed", await badTag.Content.ReadAsStringAsync());
        Assert.Equal(["main", "release/2.x"], set.Branches);
        Assert.Equal(["main", "release/2.x"], set.ProtectedBranches);
        Assert.Equal(["v*"], set.ProtectedTags);
        Assert.Equal((false, "admin"), (set.Default, set.UpdatedBy));
        await Expect(stale, HttpStatusCode.Conflict);
        Assert.Contains("the release branches were changed by admin at ", await stale.Content.ReadAsStringAsync());
        await Expect(seen, HttpStatusCode.OK);
        Assert.Equal(["v*"], (await server.Client.GetReleaseBranchesAsync("shop")).ProtectedTags);
        Assert.Contains(await AuditAsync(server, "action=repo.protect&outcome=succeeded"),
            e => e.Actor == "admin" && e.Target == "project:shop" && e.Detail!.StartsWith("release branches: main, release/2.x; protected tags: v*"));
        Assert.Contains(await AuditAsync(server, "action=repo.protect&outcome=denied"), e => e.Actor == "dev");

        // The release branch's file still names main (it was branched from it): the server's setting decides, with a warning.
        repo.Checkout("release/2.x");
        repo.WriteFile("fix.txt", "fix");
        repo.Commit("fix on 2.x");
        var run = await RunOfHeadAsync(server, repo, "release/2.x");
        var release = await ReleaseOfAsync(server, run.Id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(("release/2.x", $"1.0.{run.Number}", (string?)null), (release.Branch, release.Version, release.CreatedBy));
        Assert.Contains("release.branch 'main' in the pipeline file is ignored: this run releases because 'release/2.x' is one of the project's release branches",
            Assert.Single(run.Warnings!));
        // The project page shows the setting.
        var page = await (await Expect(await admin.GetAsync("/projects/shop"), HttpStatusCode.OK)).Content.ReadAsStringAsync();
        Assert.Contains("<span class=\"branch release-branch\">release/2.x</span>", page);
    }

    [Fact]
    public async Task Unprotecting_RefusesTheDefaultAndReleaseBranches_TakesAnotherOff_Audited_ByAdminsOnly()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        using var developer = Http(server, await UserWithRoleAsync(server, "dev", BuiltInRoles.Developer));
        await server.Client.ProtectBranchAsync("shop", "release/2.x");
        await server.Client.ProtectBranchAsync("shop", "hotfix");
        await server.Client.SetReleaseBranchesAsync("shop", ["main", "release/2.x"]);

        var byDeveloper = await developer.DeleteAsync("/api/v1/projects/shop/protected-branches/hotfix");
        var ofDefault = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.UnprotectBranchAsync("shop", "main"));
        var ofRelease = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.UnprotectBranchAsync("shop", "release/2.x"));
        var ofUnknown = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.UnprotectBranchAsync("shop", "feature/x"));
        Assert.Equal(["hotfix", "main", "release/2.x"], (await server.Client.ListProtectedBranchesAsync("shop")).Order());
        await server.Client.UnprotectBranchAsync("shop", "hotfix");

        Assert.Equal(HttpStatusCode.Forbidden, byDeveloper.StatusCode);
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict, HttpStatusCode.NotFound), (ofDefault.Status, ofRelease.Status, ofUnknown.Status));
        Assert.Contains("'main' is the default branch of 'shop' and is always protected", ofDefault.Message);
        Assert.Contains("'release/2.x' is a release branch of 'shop'", ofRelease.Message);
        Assert.Equal(["main", "release/2.x"], await server.Client.ListProtectedBranchesAsync("shop"));
        Assert.Contains(await AuditAsync(server, "action=repo.protect&outcome=succeeded"),
            e => e.Actor == "admin" && e.Target == "project:shop branch:hotfix" && e.Detail!.StartsWith("branch 'hotfix' unprotected"));
    }

    [Fact]
    public async Task MakingABranchReleaseWhileItIsUnprotected_NeverLeavesAReleaseBranchUnprotected()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        for (var round = 0; round < 15; round++)
        {
            await server.Client.SetReleaseBranchesAsync("shop", ["main"]);
            await server.Client.ProtectBranchAsync("shop", "hotfix");
            // Two admins at once: one makes hotfix a release branch, the other takes its protection away. One may lose (409).
            await Task.WhenAll(
                Quietly(server.Client.SetReleaseBranchesAsync("shop", ["main", "hotfix"])),
                Quietly(server.Client.UnprotectBranchAsync("shop", "hotfix")));
            var settings = await server.Client.GetReleaseBranchesAsync("shop");
            Assert.All(settings.Branches, b => Assert.Contains(b, settings.ProtectedBranches));
        }

        static async Task Quietly(Task change)
        {
            try { await change; }
            catch (SlipwayApiException e) when (e.Status == HttpStatusCode.Conflict) { }
        }
    }

    [Fact]
    public async Task ARunOnMain_OfAnUnmergedBranchsCommit_IsRefusedNamingTheRule_WhileAnAncestorOfMainIsBuilt()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        var old = repo.Head();
        repo.WriteFile("a.txt", "reviewed");
        repo.Commit("merged work");
        repo.Run("checkout", "-q", "-b", "feature/evil");
        repo.WriteFile("evil.txt", "unreviewed");
        var evil = repo.Commit("unreviewed");
        repo.Checkout("main");
        await DetectAsync(server);
        var before = (await server.Client.ListRunsAsync("shop")).Count;
        var developerToken = await UserWithRoleAsync(server, "dev", BuiltInRoles.Developer);
        using var developer = new SlipwayClient(server.Url, developerToken);

        var full = await Assert.ThrowsAsync<SlipwayApiException>(() => developer.StartRunAsync("shop", "main", evil));
        var abbreviated = await Assert.ThrowsAsync<SlipwayApiException>(() => developer.StartRunAsync("shop", "main", evil[..10]));
        var cli = await EndToEnd.CliRunner.AsAsync(server, developerToken, "run", "start", "shop", "--branch", "main", "--commit", evil);

        var rule = $"commit-on-branch: commit {evil[..12]} is not on branch 'main' (not the head or one of its ancestors)";
        Assert.Equal((HttpStatusCode.Conflict, rule), (full.Status, full.Message));
        Assert.Equal((HttpStatusCode.Conflict, rule), (abbreviated.Status, abbreviated.Message));
        Assert.NotEqual(0, cli.Exit);
        Assert.Contains(rule, cli.Err);
        Assert.Equal(before, (await server.Client.ListRunsAsync("shop")).Count); // nothing was started

        // An older commit of main, and the branch's commit on its own branch, are built.
        var ofMain = await server.WaitForRunAsync((await developer.StartRunAsync("shop", "main", old)).Id);
        var ofBranch = await server.WaitForRunAsync((await developer.StartRunAsync("shop", "feature/evil", evil)).Id);
        Assert.Equal(("main", old, "succeeded"), (ofMain.Branch, ofMain.Commit, ofMain.Status));
        Assert.Equal(("feature/evil", evil, "succeeded"), (ofBranch.Branch, ofBranch.Commit, ofBranch.Status));
    }

    [Fact]
    public async Task ARunWhoseCommitLeftItsBranch_IsNotReleased_EvenOnceTheBranchReleases()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        // main's first release is made in the background: wait for it, so that the count below is not a race.
        await ReleaseOfAsync(server, (await server.Client.ListRunsAsync("shop")).Single().Id);
        repo.Run("checkout", "-q", "-b", "hotfix");
        repo.WriteFile("hot.txt", "first try");
        var first = repo.Commit("hotfix, first try");
        var run = await RunOfHeadAsync(server, repo, "hotfix");
        // The branch is rewritten (an external repository cannot stop a force push), then made a release branch.
        repo.Run("reset", "-q", "--hard", "main");
        repo.WriteFile("hot.txt", "second try");
        repo.Commit("hotfix, second try");
        await DetectAsync(server);
        await server.Client.ProtectBranchAsync("shop", "hotfix");
        await server.Client.SetReleaseBranchesAsync("shop", ["main", "hotfix"]);

        var refused = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.CreateReleaseAsync("shop", run.Id));

        Assert.Equal(("succeeded", first), (run.Status, run.Commit));
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal($"commit-on-branch: commit {first[..12]} is not on branch 'hotfix' (not the head or one of its ancestors)", refused.Message);
        Assert.Single(await server.Client.ListReleasesAsync("shop"));
    }

    [Fact]
    public async Task AReleaseTagPatternTheProjectDoesNotProtect_WarnsOnTheRun_UntilTheProjectProtectsIt()
    {
        const string tagged = """
            stages:
              - name: build
                jobs:
                  - name: pack
                    run: "true"
            release:
              branch: main
              version: "{tag}+{run}"
              tag: "rel-*"
            """;
        var server = await SlipwayTestServer.StartAsync();
        await using var _ = server;
        using var repo = Pipelines.Repo(tagged);
        repo.Run("tag", "rel-1.0");
        var first = await server.CreateProjectAndWaitAsync("shop", repo.Path);

        await server.Client.SetReleaseBranchesAsync("shop", null, ["v*", "rel-*"]);
        var second = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "main", null)).Id);

        Assert.Contains("release.tag 'rel-*' is not covered by the project's protected tag patterns (v*): anyone who may push could create a tag",
            Assert.Single(first.Warnings!));
        Assert.Equal("rel-1.0+1", (await ReleaseOfAsync(server, first.Id)).Version);
        Assert.Empty(second.Warnings!);
    }
}
