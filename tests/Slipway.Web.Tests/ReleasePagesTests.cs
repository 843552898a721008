using System.Security.Cryptography;
using System.Text;
using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>The release list and release page, and creating a release by hand from the run page, in a real browser.</summary>
public sealed class ReleasePagesTests
{
    /// <summary>Uploads dist/app.txt (the commit's app.txt); main is the release branch.</summary>
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: |
                  mkdir -p dist
                  cat app.txt > dist/app.txt
                artifacts: [dist/app.txt]
        release:
          branch: main
          version: "2.1.{run}"
        """;

    private const string HostileTitle = "<script>alert(1)</script> $(rm -rf /)";

    private static async Task<(SlipwayTestServer Server, GitRepository Repo)> ShopAsync()
    {
        var server = await SlipwayTestServer.StartAsync();
        var repo = TestRepos.WithPipeline(Pipeline);
        try
        {
            repo.WriteFile("app.txt", "v0");
            repo.Commit("app");
            var first = await server.CreateProjectAndWaitAsync("shop", repo.Path);
            Assert.Equal("succeeded", first.Status);
            await TestRepos.ReleaseOfAsync(server, "shop", first.Id); // the first release, with no items
            await server.Client.SetItemKeyAsync("shop", "SHOP");
            return (server, repo);
        }
        catch
        {
            repo.Dispose();
            await server.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task ReleasePage_ShowsVersion_ArtifactDigests_Items_Notes_AndPipelineSnapshot()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        await server.Client.CreateWorkItemAsync("shop", HostileTitle, null, "bug");
        await server.Client.CreateWorkItemAsync("shop", "Cart shows the total", null, "feature");
        repo.WriteFile("app.txt", "v1");
        var commit = repo.Commit("SHOP-1 and SHOP-2: cart");
        var run = await TestRepos.RunHeadAsync(server, "shop", repo, "main");
        var summary = await TestRepos.ReleaseOfAsync(server, "shop", run.Id);
        Assert.Equal($"2.1.{run.Number}", summary.Version);

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        // The project page leads to the list; the list shows each release's facts.
        await page.GotoAsync("/projects/shop");
        await page.Locator("#releases").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("shop: releases");
        await Expect(page.Locator("#releases tbody tr")).ToHaveCountAsync(2);
        var row = page.Locator($"#releases tr[data-version='{summary.Version}']");
        await Expect(row.Locator("code")).ToHaveTextAsync(commit[..12]);
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = $"#{run.Number}", Exact = true })).ToHaveAttributeAsync("href", $"/runs/{run.Id}");
        await Expect(row.Locator(".item-count")).ToHaveTextAsync("2");
        await Expect(row).ToContainTextAsync("(automatic)");

        await row.GetByRole(AriaRole.Link, new() { Name = summary.Version }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync($"shop release {summary.Version}");
        await Expect(page.Locator("#release-version")).ToHaveTextAsync(summary.Version);
        await Expect(page.Locator("#release-commit")).ToHaveTextAsync(commit);
        await Expect(page.Locator("#release-run")).ToHaveAttributeAsync("href", $"/runs/{run.Id}");
        await Expect(page.Locator("#release-tests")).ToHaveTextAsync("no test reports");

        var artifact = page.Locator("#release-artifacts tr[data-path='pack/dist/app.txt']");
        await Expect(artifact.Locator("code.digest")).ToHaveTextAsync(Convert.ToHexStringLower(SHA256.HashData("v1"u8)));
        var href = await artifact.GetByRole(AriaRole.Link).GetAttributeAsync("href");
        Assert.Equal($"/api/v1/projects/shop/releases/{summary.Version}/artifacts/pack/dist/app.txt", href);
        var download = await page.APIRequest.GetAsync(href!);
        Assert.Equal(200, download.Status);
        Assert.Equal("v1", Encoding.UTF8.GetString(await download.BodyAsync()));

        // Notes grouped by kind (features first), each item linked; the hostile title is text.
        var notes = page.Locator("#release-notes");
        Assert.Equal(["Features", "Bug fixes"], await notes.Locator("h3").AllTextContentsAsync());
        await Expect(notes.Locator("li[data-key='SHOP-1']")).ToHaveTextAsync($"SHOP-1: {HostileTitle}");
        await Expect(notes.Locator("li[data-key='SHOP-2'] a")).ToHaveAttributeAsync("href", "/projects/shop/items/2");
        await Expect(page.Locator("#release-items tr[data-key='SHOP-1'] td.title")).ToHaveTextAsync(HostileTitle);
        await Expect(page.Locator("#pipeline-snapshot")).ToHaveTextAsync(Pipeline.Replace("\r\n", "\n"));

        // The item's timeline links back to the release.
        await page.Locator("#release-items").GetByRole(AriaRole.Link, new() { Name = "SHOP-1" }).ClickAsync();
        var released = page.Locator("#timeline tr[data-kind='release']");
        await Expect(released.GetByRole(AriaRole.Link, new() { Name = summary.Version })).ToHaveAttributeAsync("href", $"/projects/shop/releases/{summary.Version}");
        await Expect(released).ToContainTextAsync("(automatic)");

        Assert.Empty(browser.Dialogs);
        Assert.Empty(browser.PageErrors);
        Assert.Equal(0, await page.Locator("main script").CountAsync());
    }

    [Fact]
    public async Task Developer_ReleasesARunByHand_FromTheRunPage_AndAViewerCannot()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        using (var api = TestApi.Admin(server))
        {
            await api.CreateUserAsync("dev", null, "developer");
            await api.CreateUserAsync("victor", null, "viewer");
        }
        // A green run of a branch that is not a release branch is not released, and no page offers to.
        repo.CreateBranch("hotfix");
        repo.Checkout("hotfix");
        repo.WriteFile("app.txt", "hot");
        repo.Commit("hotfix");
        var run = await TestRepos.RunHeadAsync(server, "shop", repo, "hotfix");
        Assert.Equal("succeeded", run.Status);
        await using (var early = await BrowserSession.StartAsync(server.Url))
        {
            await TestApi.SignInWithPasswordAsync(early.Page, "dev");
            await early.Page.GotoAsync($"/runs/{run.Id}");
            await Expect(early.Page.Locator("#run > p .status")).ToHaveTextAsync("succeeded");
            await Expect(early.Page.GetByRole(AriaRole.Button, new() { Name = "Create release" })).ToHaveCountAsync(0);
            await early.Page.GotoAsync("/projects/shop/releases");
            await Expect(early.Page.Locator("#no-candidates")).ToBeVisibleAsync();
        }
        // Once an admin protects hotfix and makes it a release branch, its green run may be released by hand.
        await server.Client.ProtectBranchAsync("shop", "hotfix");
        await server.Client.SetReleaseBranchesAsync("shop", ["main", "hotfix"]);

        await using var viewer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(viewer.Page, "victor");
        await viewer.Page.GotoAsync($"/runs/{run.Id}");
        await Expect(viewer.Page.Locator("#run > p .status")).ToHaveTextAsync("succeeded");
        await Expect(viewer.Page.GetByRole(AriaRole.Button, new() { Name = "Create release" })).ToHaveCountAsync(0);
        await viewer.Page.GotoAsync("/projects/shop/releases");
        await Expect(viewer.Page.Locator("#create-release")).ToHaveCountAsync(0);
        var forced = await PageForms.PostAsync(viewer.Page, $"/runs/{run.Id}/release", withToken: true);
        Assert.Equal(403, forced.Status);
        Assert.Contains($"user:victor may not release.create on run {run.Id}", forced.Body);
        var forcedList = await PageForms.PostAsync(viewer.Page, "/projects/shop/releases/create", withToken: true,
            new Dictionary<string, string> { ["runId"] = run.Id.ToString() });
        Assert.Equal(403, forcedList.Status);
        Assert.Single(await server.Client.ListReleasesAsync("shop"));

        await using var developer = await BrowserSession.StartAsync(server.Url);
        var page = developer.Page;
        await TestApi.SignInWithPasswordAsync(page, "dev");
        await page.GotoAsync("/projects/shop/releases");
        await Expect(page.Locator("#create-release select option")).ToHaveTextAsync($"#{run.Number} on hotfix at {run.Commit[..12]}");
        await page.GotoAsync($"/runs/{run.Id}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create release" }).ClickAsync();

        var version = $"2.1.{run.Number}";
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Release {version} created from run #{run.Number}.");
        Assert.Equal($"/projects/shop/releases/{version}", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("#release-version")).ToHaveTextAsync(version);
        await Expect(page.Locator("#release")).ToContainTextAsync("by dev");
        var release = await server.Client.GetReleaseAsync("shop", version);
        Assert.Equal(("dev", "hotfix"), (release.CreatedBy, release.Branch));

        // The run now says where it went, and offers no second release.
        await page.GotoAsync($"/runs/{run.Id}");
        await Expect(page.Locator("#run-release a")).ToHaveTextAsync(version);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create release" })).ToHaveCountAsync(0);
        // A second release of the run, forced, is refused and the reason is shown.
        var again = await PageForms.PostAndFollowAsync(page, $"/runs/{run.Id}/release");
        Assert.Equal(200, again.Status); // back on the run page, which shows why
        Assert.Contains("released already", again.Body);
        await page.GotoAsync("/projects/shop/releases");
        await Expect(page.Locator("#releases tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#no-candidates")).ToBeVisibleAsync();
        Assert.Empty(developer.PageErrors);
        Assert.Empty(viewer.PageErrors);
    }
}
