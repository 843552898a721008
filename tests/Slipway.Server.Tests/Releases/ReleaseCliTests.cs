using System.Text.Json;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.Releases;

/// <summary><c>slipway release</c> as a user types it, against a real server.</summary>
public sealed class ReleaseCliTests
{
    private static Task<(int Exit, string Out, string Err)> SlipwayAsync(SlipwayTestServer server, params string[] args) =>
        EndToEnd.CliRunner.AdminAsync(server, null, args);

    [Fact]
    public async Task ReleaseListShowNotesCreate_ThroughTheCli()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true", "release:\n  branch: main\n  version: \"2.0.{run}\""));
        repo.CreateBranch("hotfix");
        // Another project's run first, so that shop's run ids and numbers differ (a --run '#N' taken for an id would show).
        using var otherRepo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.CreateProjectAndWaitAsync("other", otherRepo.Path);
        var first = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        var hotfix = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "hotfix", null)).Id);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await server.Client.ListReleasesAsync("shop")).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);

        var list = await SlipwayAsync(server, "release", "list", "shop");
        var show = await SlipwayAsync(server, "release", "show", "shop", "2.0.1");
        var notes = await SlipwayAsync(server, "release", "notes", "shop", "2.0.1");
        // hotfix releases only once it is a protected release branch, which the CLI sets.
        var offBranch = await SlipwayAsync(server, "release", "create", "shop", "--run", hotfix.Id.ToString());
        var defaults = await SlipwayAsync(server, "project", "release-branches", "shop");
        var unprotected = await SlipwayAsync(server, "project", "release-branches", "shop", "main", "hotfix");
        var protect = await SlipwayAsync(server, "project", "protect", "shop", "hotfix");
        var set = await SlipwayAsync(server, "project", "release-branches", "shop", "main", "hotfix", "--protected-tag", "v*", "--protected-tag", "rel-*");
        var create = await SlipwayAsync(server, "release", "create", "shop", "--run", $"#{hotfix.Number}"); // by its number, as the UI shows it
        var noRun = await SlipwayAsync(server, "release", "create", "shop");
        var foreign = await SlipwayAsync(server, "release", "create", "shop", "--run", "other#1");
        var again = await SlipwayAsync(server, "release", "create", "shop", "--run", hotfix.Id.ToString());
        var json = await SlipwayAsync(server, "release", "list", "shop", "--json");

        Assert.Equal(1, first.Number);
        Assert.True(list.Exit == 0, list.Err);
        Assert.Contains("2.0.1", list.Out);
        Assert.Contains("(automatic)", list.Out);
        Assert.Contains($"run #1 (id {first.Id}) on main at {first.Commit}", show.Out);
        Assert.Equal("# Release 2.0.1\n\nNo work items since the previous release.\n", notes.Out);
        Assert.NotEqual(0, offBranch.Exit);
        Assert.Contains($"release-branch: run #{hotfix.Number} is on branch 'hotfix', which is not one of the project's release branches (main)", offBranch.Err);
        Assert.Contains("release branches of shop: main", defaults.Out);
        Assert.Contains("protected release tags: v*", defaults.Out);
        Assert.Contains("(the defaults: nothing set yet)", defaults.Out);
        Assert.NotEqual(0, unprotected.Exit);
        Assert.Contains("branch 'hotfix' is not protected", unprotected.Err);
        Assert.Contains("slipway project protect shop hotfix", unprotected.Err);
        Assert.True(protect.Exit == 0, protect.Err);
        Assert.Contains("branch hotfix of project shop is protected (protected branches: main, hotfix)", protect.Out);
        Assert.True(set.Exit == 0, set.Err);
        Assert.Contains("release branches of shop: main, hotfix", set.Out);
        Assert.Contains("protected release tags: v*, rel-*", set.Out);
        Assert.Contains("(set by admin at ", set.Out);
        Assert.True(create.Exit == 0, create.Err);
        Assert.Contains($"created release 2.0.{hotfix.Number} from run #{hotfix.Number}", create.Out);
        Assert.NotEqual((long?)hotfix.Id, (long?)hotfix.Number);
        Assert.Equal(2, noRun.Exit);
        Assert.Equal(2, foreign.Exit);
        Assert.Contains("'other#1' is a run of project other, not of shop", foreign.Err);
        Assert.NotEqual(0, again.Exit);
        Assert.Contains("released already", again.Err);
        var releases = JsonSerializer.Deserialize<List<ReleaseSummaryDto>>(json.Out, SlipwayClient.Json)!;
        Assert.Equal([$"2.0.{hotfix.Number}", "2.0.1"], releases.Select(r => r.Version));
    }
}
