using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Deployment status and actions where users look for them: the release page (where the release is, Deploy and Promote
/// only for who may), the project page (environment strip, Run pipeline), the dashboards (what waits, linked), and the
/// environment form's warning when no agent of the pool is connected.
/// </summary>
public sealed class DeploymentStatusPagesTests
{
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: echo built
        release:
          branch: main
          version: "1.0.{run}"
        deploy:
          run: "echo deploying $SLIPWAY_RELEASE to $SLIPWAY_ENVIRONMENT"
        """;

    [Fact]
    public async Task ReleasePage_SaysWhereItIs_OffersPromoteAndDeployOnlyToWhoMay_DashboardsLinkWhatWaits()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(Pipeline);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        var first = await TestRepos.FirstRunAsync(server, "shop");
        using (var api = TestApi.Admin(server))
        {
            // Staging takes every release by itself; production only from analysts, with one approval.
            await CreateEnvironmentAsync(api, new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
            await CreateEnvironmentAsync(api, new EnvironmentRequest("production", 1, false, "build", ["role:analyst"], 1, "analyst", false, null));
            await api.CreateUserAsync("ann", null, "analyst");
            await api.CreateUserAsync("dana", null, "developer");
        }
        Assert.Equal("succeeded", (await server.WaitForRunAsync(first.Id)).Status);
        var version = (await TestRepos.ReleaseOfAsync(server, "shop", first.Id)).Version;

        await using var ann = await BrowserSession.StartAsync(server.Url);
        var page = ann.Page;
        await TestApi.SignInWithPasswordAsync(page, "ann");
        var releasePath = $"/projects/shop/releases/{version}";
        // Staging deploys by itself: wait until the release page says it is current there.
        var staging = page.Locator("#release-environments tr[data-environment='staging']");
        for (var i = 0; i < 60; i++)
        {
            await page.GotoAsync(releasePath);
            if (await staging.GetAttributeAsync("data-where") == "current") break;
            await Task.Delay(500);
        }
        await Expect(staging).ToHaveAttributeAsync("data-where", "current");
        await Expect(staging.Locator(".where")).ToHaveTextAsync("current here");
        await Expect(staging.Locator(".deployments a")).ToHaveTextAsync("#1");
        await Expect(staging.Locator(".deployments a")).ToHaveAttributeAsync("href", "/projects/shop/deployments/1");
        await Expect(staging.Locator("form.promote")).ToHaveCountAsync(0);
        var production = page.Locator("#release-environments tr[data-environment='production']");
        await Expect(production.Locator(".where")).ToHaveTextAsync("never deployed");
        // The analyst may deploy to production: Promote there, and Deploy offering production only (staging has it already).
        await Expect(page.Locator("#release-deploy select[name='environment'] option")).ToHaveTextAsync(["production"]);
        await Expect(production.GetByRole(AriaRole.Button, new() { Name = "Promote to production" })).ToBeVisibleAsync();

        // A developer may not deploy to production: no button, no form, for the same release.
        await using (var dana = await BrowserSession.StartAsync(server.Url))
        {
            await TestApi.SignInWithPasswordAsync(dana.Page, "dana");
            await dana.Page.GotoAsync(releasePath);
            await Expect(dana.Page.Locator("#release-environments tr[data-environment='staging']")).ToHaveAttributeAsync("data-where", "current");
            await Expect(dana.Page.Locator("#release-environments form.promote")).ToHaveCountAsync(0);
            await Expect(dana.Page.Locator("#release-deploy")).ToHaveCountAsync(0);
            await Expect(dana.Page.GetByRole(AriaRole.Button, new() { Name = "Deploy" })).ToHaveCountAsync(0);
        }

        await production.GetByRole(AriaRole.Button, new() { Name = "Promote to production" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Promotion #2 of {version} to production requested; it awaits approval.");
        Assert.Equal("/projects/shop/deployments/2", new Uri(page.Url).AbsolutePath);

        // Back on the release page: production has the deployment on its way, linked, and nothing more is offered there.
        await page.GotoAsync(releasePath);
        await Expect(production.Locator(".deployments a")).ToHaveAttributeAsync("href", "/projects/shop/deployments/2");
        await Expect(production.Locator(".deployments .status")).ToHaveTextAsync("awaiting approval");
        await Expect(production.Locator("form.promote")).ToHaveCountAsync(0);
        await Expect(page.Locator("#release-deploy")).ToHaveCountAsync(0);

        // The home page lists what waits, linked to the deployment, and links to every environment.
        await page.GotoAsync("/");
        var waiting = page.Locator("#waiting li[data-project='shop'][data-number='2']");
        await Expect(waiting).ToContainTextAsync($"shop #2: {version} to production");
        await Expect(waiting.Locator(".status")).ToHaveTextAsync("awaiting approval");
        await Expect(page.Locator("a.project-environments")).ToHaveAttributeAsync("href", "/projects/shop/environments");
        await waiting.GetByRole(AriaRole.Link, new() { Name = "shop #2" }).ClickAsync();
        Assert.Equal("/projects/shop/deployments/2", new Uri(page.Url).AbsolutePath);
        await page.GotoAsync("/");
        await page.Locator("#all-deployments").ClickAsync();
        Assert.Equal("/environments", new Uri(page.Url).AbsolutePath);
        // The environments overview links the waiting deployment in its cell.
        var cell = page.Locator("#matrix tr[data-project='shop'] td[data-environment='production']");
        await Expect(cell.Locator(".waiting")).ToHaveTextAsync("0 queued, 1 awaiting approval");
        await Expect(cell.Locator(".waiting-list li[data-number='2'] a")).ToHaveAttributeAsync("href", "/projects/shop/deployments/2");

        // The project page: each environment's current release with its state, what waits, and the dashboard link.
        await page.GotoAsync("/projects/shop");
        var strip = page.Locator("#environment-strip");
        await Expect(strip.Locator(".env-strip-cell[data-environment='staging'] .version")).ToHaveTextAsync(version);
        await Expect(strip.Locator(".env-strip-cell[data-environment='staging'] .status")).ToHaveTextAsync("succeeded");
        await Expect(strip.Locator(".env-strip-cell[data-environment='production'] .none")).ToHaveTextAsync("nothing yet");
        await Expect(strip.Locator(".env-strip-cell[data-environment='production'] .latest .status")).ToHaveTextAsync("awaiting approval");
        await strip.Locator("#environment-strip-dashboard").ClickAsync();
        Assert.Equal("/projects/shop/environments", new Uri(page.Url).AbsolutePath);

        Assert.Empty(ann.PageErrors);
    }

    [Fact]
    public async Task ProjectPage_RunPipeline_StartsARunOfTheChosenBranch_OnlyForThoseWhoMayStartRuns()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline("""
            stages:
              - name: build
                jobs:
                  - { name: compile, run: "echo compiled" }
            """);
        repo.CreateBranch("feature/x");
        await server.Client.CreateProjectAsync("app", repo.Path, "main");
        await server.WaitForRunAsync((await TestRepos.FirstRunAsync(server, "app")).Id);
        using (var api = TestApi.Admin(server))
        {
            await api.CreateUserAsync("dana", null, "developer");
            await api.CreateUserAsync("victor", null, "viewer");
        }

        // A viewer may not start runs: no form.
        await using (var victor = await BrowserSession.StartAsync(server.Url))
        {
            await TestApi.SignInWithPasswordAsync(victor.Page, "victor");
            await victor.Page.GotoAsync("/projects/app");
            await Expect(victor.Page.Locator("#branches")).ToBeVisibleAsync();
            await Expect(victor.Page.Locator("#run-pipeline")).ToHaveCountAsync(0);
        }

        await using var dana = await BrowserSession.StartAsync(server.Url);
        var page = dana.Page;
        await TestApi.SignInWithPasswordAsync(page, "dana");
        await page.GotoAsync("/projects/app");
        var branch = page.Locator("#run-pipeline select[name='branch']");
        await Expect(branch).ToHaveValueAsync("main"); // the default branch is preselected
        await Expect(branch.Locator("option")).ToHaveTextAsync(["main", "feature/x"]);
        await branch.SelectOptionAsync("feature/x");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run pipeline" }).ClickAsync();

        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^Run #\d+ of feature/x started\.$"));
        Assert.Matches(@"^/runs/\d+$", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("#run strong.branch")).ToHaveTextAsync("feature/x");
        await Expect(page.Locator("#run > p")).ToContainTextAsync("(manual)");
        var runId = long.Parse(new Uri(page.Url).AbsolutePath["/runs/".Length..]);
        var run = await server.WaitForRunAsync(runId);
        Assert.Equal(("feature/x", "succeeded"), (run.Branch, run.Status));
        Assert.Empty(dana.PageErrors);
    }

    [Fact]
    public async Task EnvironmentForms_WithAPoolWithoutAgents_WarnInTheFlashMessage_AsTheApiDoes()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(Pipeline);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await page.GotoAsync("/projects/shop/environments");
        await page.Locator("#new-environment summary").ClickAsync();
        var form = page.Locator("#environment-form");
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync("production");
        await form.GetByLabel("Agent pool").FillAsync("deploy");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create environment" }).ClickAsync();
        var flash = page.Locator(".flash.ok");
        await Expect(flash).ToContainTextAsync("Environment production created. Warning: no agent of pool 'deploy' is connected");
        await Expect(flash).ToContainTextAsync("slipway agent --server URL --token TOKEN --pool deploy");

        // Moving it to the embedded agent's pool: saved, nothing to warn about; to another empty pool: the warning again.
        var settings = page.Locator("#settings-form");
        await page.Locator("#edit-settings summary").ClickAsync();
        await settings.GetByLabel("Agent pool").FillAsync("build");
        await settings.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Expect(flash).ToHaveTextAsync("Settings of production saved.");
        await page.Locator("#edit-settings summary").ClickAsync();
        await settings.GetByLabel("Agent pool").FillAsync("far-away");
        await settings.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Expect(flash).ToContainTextAsync("Settings of production saved. Warning: no agent of pool 'far-away' is connected");
        Assert.Empty(browser.PageErrors);
    }

    private static async Task CreateEnvironmentAsync(TestApi api, EnvironmentRequest request)
    {
        var response = await api.Http.PostAsJsonAsync("/api/v1/projects/shop/environments", request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }
}
