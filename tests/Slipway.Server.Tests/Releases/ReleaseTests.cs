using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Net;
using System.Security.Cryptography;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Releases;

/// <summary>Releases end to end: a real server, git repository and agent.</summary>
public sealed class ReleaseTests
{
    /// <summary>One job that fails when the file FAIL exists, and uploads dist/app.txt (its content: the commit's app.txt).</summary>
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: |
                  test ! -e FAIL
                  mkdir -p dist
                  cat app.txt > dist/app.txt
                artifacts: [dist/app.txt]
        release:
          branch: main
          version: "1.4.{run}"
        """;

    private static async Task<(SlipwayTestServer Server, GitRepository Repo, SlipwayClient Analyst)> SetUpAsync()
    {
        var server = await SlipwayTestServer.StartAsync();
        var repo = Pipelines.Repo(Pipeline, ("app.txt", "v0"));
        // The project's first run (of the initial commit, on main) makes the first release, with no items.
        var first = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        Assert.Equal("succeeded", first.Status);
        await WaitForReleaseAsync(server, first.Id);
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        var analyst = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "ann", BuiltInRoles.Analyst));
        await analyst.CreateWorkItemAsync("shop", "Cart shows the total", null, "feature");
        await analyst.CreateWorkItemAsync("shop", "Crash on <empty> cart", null, "bug");
        return (server, repo, analyst);
    }

    internal static async Task<ReleaseSummaryDto> WaitForReleaseAsync(SlipwayTestServer server, long runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var found = (await server.Client.ListReleasesAsync("shop")).FirstOrDefault(r => r.RunId == runId);
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no release of run {runId}");
            await Task.Delay(100);
        }
    }

    /// <summary>Lets the server see the repository's new commits (as its poller would) and waits for the run of the branch's head.</summary>
    private static async Task<RunDto> RunAsync(SlipwayTestServer server, string branch, GitRepository repo)
    {
        var head = repo.Run("rev-parse", branch).Trim();
        var project = await server.Service<ProjectStore>().FindAsync("shop");
        await server.Service<ChangeDetector>().CheckAsync(project!);
        var run = (await server.Client.ListRunsAsync("shop")).Where(r => r.Branch == branch && r.Commit == head).MaxBy(r => r.Id)
                  ?? throw new InvalidOperationException($"no run of {branch} at {head}");
        return await server.WaitForRunAsync(run.Id);
    }

    [Fact]
    public async Task GreenRunOnReleaseBranch_CreatesRelease_WithItemsNotesArtifacts_AndOnlyNewItemsNextTime()
    {
        var (server, repo, analyst) = await SetUpAsync();
        await using var _ = server;
        using var __ = repo;
        using var ___ = analyst;
        repo.WriteFile("app.txt", "v1");
        repo.Commit("SHOP-1: cart total");
        repo.WriteFile("cart.txt", "fix");
        var head = repo.Commit("Fix shop-2 crash");

        var run = await RunAsync(server, "main", repo);
        Assert.Equal("succeeded", run.Status);
        var summary = await WaitForReleaseAsync(server, run.Id);
        var release = await server.Client.GetReleaseAsync("shop", summary.Version);

        Assert.Equal($"1.4.{run.Number}", release.Version);
        Assert.Equal((head, "main", (string?)null), (release.Commit, release.Branch, release.CreatedBy));
        Assert.Equal(["SHOP-1", "SHOP-2"], release.Items.Select(i => i.Key).Order());
        Assert.Contains("release:\n  branch: main", release.PipelineSnapshot);
        var artifact = Assert.Single(release.Artifacts);
        Assert.Equal("pack/dist/app.txt", artifact.Path);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("v1"u8)), artifact.Sha256);
        var notes = await server.Client.GetReleaseNotesAsync("shop", release.Version);
        Assert.Equal($"# Release {release.Version}\n\n## Features\n\n- SHOP-1: Cart shows the total\n\n## Bug fixes\n\n- SHOP-2: Crash on \\<empty\\> cart\n", notes);
        Assert.Equal(notes, release.Notes);
        var item = await analyst.GetWorkItemAsync("shop", 1);
        Assert.Equal("released", item.State);
        var released = item.Timeline!.Last();
        Assert.Equal(("release", release.Version, run.Id, (string?)null), (released.Kind, released.Ref, released.RunId, released.Who));
        using var web = Admin(server);
        var page = await (await Expect(await web.GetAsync("/projects/shop/items/1"), HttpStatusCode.OK)).Content.ReadAsStringAsync();
        Assert.Contains($"release <a href=\"/projects/shop/releases/{release.Version}\"><strong>{release.Version}</strong></a>", page);

        using var admin = Admin(server);
        var bytes = await (await Expect(await admin.GetAsync($"/api/v1/projects/shop/releases/{release.Version}/artifacts/pack/dist/app.txt"), HttpStatusCode.OK))
            .Content.ReadAsStringAsync();
        Assert.Equal("v1", bytes);

        // The next release holds only what is new since this one.
        var third = await analyst.CreateWorkItemAsync("shop", "Chores", null, "chore");
        repo.WriteFile("x.txt", "x");
        repo.Commit($"tidy {third.Key}");
        var next = await RunAsync(server, "main", repo);
        var nextRelease = await server.Client.GetReleaseAsync("shop", (await WaitForReleaseAsync(server, next.Id)).Version);
        Assert.Equal([third.Key], nextRelease.Items.Select(i => i.Key));
        Assert.Equal(3, (await server.Client.ListReleasesAsync("shop")).Count);

        var audit = await AuditAsync(server, "action=release.create&outcome=succeeded");
        Assert.Contains(audit, e => e.ActorKind == "system" && (e.Detail ?? "").StartsWith($"release {release.Version} created automatically from run {run.Number} on main"));
    }

    [Fact]
    public async Task RunOnOtherBranch_OrFailedRun_CreatesNoRelease()
    {
        var (server, repo, analyst) = await SetUpAsync();
        await using var _ = server;
        using var __ = repo;
        using var ___ = analyst;
        repo.CreateBranch("feature/SHOP-1-cart");
        repo.Checkout("feature/SHOP-1-cart");
        repo.WriteFile("app.txt", "v1");
        repo.Commit("SHOP-1: cart");
        var onBranch = await RunAsync(server, "feature/SHOP-1-cart", repo);
        repo.Checkout("main");
        repo.WriteFile("FAIL", "x");
        repo.Commit("SHOP-2 breaks it");
        var failed = await RunAsync(server, "main", repo);
        // One pass of the release creator now, rather than hoping a timed one happened.
        await server.App.Services.GetServices<IHostedService>().OfType<ReleaseCreator>().Single().CreatePendingAsync(CancellationToken.None);

        Assert.Equal(("succeeded", "failed"), (onBranch.Status, failed.Status));
        Assert.Single(await server.Client.ListReleasesAsync("shop")); // only the initial commit's
        Assert.Equal("in_development", (await analyst.GetWorkItemAsync("shop", 1)).State);
    }

    [Fact]
    public async Task TamperedArtifact_IsRefusedWithTheMismatch_AndAudited()
    {
        var (server, repo, analyst) = await SetUpAsync();
        await using var _ = server;
        using var __ = repo;
        using var ___ = analyst;
        var release = (await server.Client.ListReleasesAsync("shop")).Single();
        var artifact = (await server.Client.GetReleaseAsync("shop", release.Version)).Artifacts.Single();
        var file = Path.Combine(server.Options.FullDataDirectory, "artifacts", artifact.Sha256[..2], artifact.Sha256);
        File.WriteAllText(file, "evil");

        using var admin = Admin(server);
        var response = await admin.GetAsync($"/api/v1/projects/shop/releases/{release.Version}/artifacts/{artifact.Path}");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("does not match its recorded digest", body);
        Assert.DoesNotContain("evil", body);
        var audit = await AuditAsync(server, "action=release.read&outcome=failed");
        Assert.Contains(audit, e => (e.Detail ?? "").Contains($"artifact 'pack/dist/app.txt' of release {release.Version} does not match"));
    }

    [Fact]
    public async Task ManualRelease_ByDeveloper_FromGreenRunOfAReleaseBranch_OtherBranchesViewerFailedRunAndSecondReleaseRefused()
    {
        var (server, repo, analyst) = await SetUpAsync();
        await using var _ = server;
        using var __ = repo;
        using var ___ = analyst;
        repo.CreateBranch("hotfix");
        repo.Checkout("hotfix");
        repo.WriteFile("app.txt", "hot");
        repo.Commit("SHOP-2: hotfix");
        var green = await RunAsync(server, "hotfix", repo);
        repo.WriteFile("FAIL", "x");
        repo.Commit("broken");
        var red = await RunAsync(server, "hotfix", repo);
        using var developer = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev", BuiltInRoles.Developer));
        using var viewer = Http(server, await UserWithRoleAsync(server, "vic", BuiltInRoles.Viewer));

        // hotfix does not release: its runs are not released, by hand either.
        var offBranch = await Assert.ThrowsAsync<SlipwayApiException>(() => developer.CreateReleaseAsync("shop", green.Id));
        Assert.Equal(HttpStatusCode.Conflict, offBranch.Status);
        Assert.Contains($"release-branch: run #{green.Number} is on branch 'hotfix', which is not one of the project's release branches (main)", offBranch.Message);
        // Once an admin protects it and makes it a release branch, its green run may be released by hand.
        await server.Client.ProtectBranchAsync("shop", "hotfix");
        await server.Client.SetReleaseBranchesAsync("shop", ["main", "hotfix"]);

        var denied = await viewer.PostAsync("/api/v1/projects/shop/releases", Body(new CreateReleaseRequest(green.Id)));
        var release = await developer.CreateReleaseAsync("shop", green.Id);
        using var http = Http(server, await UserWithRoleAsync(server, "dev2", BuiltInRoles.Developer));
        var again = await http.PostAsync("/api/v1/projects/shop/releases", Body(new CreateReleaseRequest(green.Id)));
        var fromRed = await http.PostAsync("/api/v1/projects/shop/releases", Body(new CreateReleaseRequest(red.Id)));

        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(($"1.4.{green.Number}", "dev", "hotfix"), (release.Version, release.CreatedBy, release.Branch));
        Assert.Equal(["SHOP-2"], release.Items.Select(i => i.Key));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("released already", await again.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, fromRed.StatusCode);
        Assert.Contains("only a succeeded run can be released", await fromRed.Content.ReadAsStringAsync());
        var audit = await AuditAsync(server, "action=release.create&outcome=succeeded");
        Assert.Contains(audit, e => e.Actor == "dev" && (e.Detail ?? "").StartsWith($"release {release.Version} created by hand from run {green.Number} on hotfix"));
    }
}
