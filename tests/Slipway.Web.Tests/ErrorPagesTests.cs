using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Refusals and missing pages met in the browser are pages of the site (status kept, message, a way back); the JSON API,
/// and a script's fetch of the same page, keep answering JSON.
/// </summary>
public sealed class ErrorPagesTests
{
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: echo built
        """;

    [Fact]
    public async Task Developer_OpeningAudit_GetsAnHtml403PageWithAWayBack_WhileTheApiAnswersJson()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using (var api = TestApi.Admin(server)) await api.CreateUserAsync("bob", "Bob Builder", "developer");

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "bob");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Projects");

        var response = await page.GotoAsync("/audit");
        Assert.NotNull(response);
        Assert.Equal(403, response.Status);
        Assert.StartsWith("text/html", response.Headers["content-type"]);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Not allowed");
        await Expect(page.Locator("#error")).ToHaveAttributeAsync("data-status", "403");
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("user:bob may not audit.read");
        // In the site's frame: bob's nav (without Audit) and his name, a way back and home.
        await Expect(page.Locator("header .user")).ToHaveAttributeAsync("data-username", "bob");
        await Expect(page.Locator("header nav").GetByRole(AriaRole.Link, new() { Name = "Audit" })).ToHaveCountAsync(0);
        await Expect(page.Locator("#error-home")).ToHaveAttributeAsync("href", "/");
        await page.Locator("#error-back").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Projects");

        // The same refusal from the API, and from a script's fetch of the page itself, is JSON.
        var viaApi = await FetchAsync(page, "/api/v1/audit");
        Assert.Equal(403, viaApi.Status);
        Assert.Equal("user:bob may not audit.read", ErrorOf(viaApi.Body));
        var viaFetch = await FetchAsync(page, "/audit");
        Assert.Equal(403, viaFetch.Status);
        Assert.Equal("user:bob may not audit.read", ErrorOf(viaFetch.Body));

        // A form bob may not use, submitted by a browser anyway (a stale page), also gets the page, not JSON.
        await page.GotoAsync("/");
        // Waiting is set up before the submit: a navigation that commits quickly must not be missed.
        var arrived = page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/users/create", new() { WaitUntil = WaitUntilState.Commit, Timeout = 60_000 });
        await page.EvaluateAsync("""
            () => {
              const form = document.createElement('form');
              form.method = 'post';
              form.action = '/users/create';
              const token = document.querySelector('form.signout input[name="__RequestVerificationToken"]').cloneNode();
              form.appendChild(token);
              document.body.appendChild(form);
              setTimeout(() => form.submit(), 0);   // after this script returns, so its context outlives it
            }
            """);
        await arrived;
        await Expect(page.Locator("h1")).ToHaveTextAsync("Not allowed");
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("user:bob may not user.manage");

        // A project bob may not read is answered as one that does not exist, in the same words: no refusal confirms its name.
        using (var repo = TestRepos.WithPipeline(Pipeline))
        {
            await server.Client.CreateProjectAsync("payroll", repo.Path, "main");
            await server.Client.CreateProjectAsync("elsewhere", repo.Path, "main");
        }
        using (var api = TestApi.Admin(server))
        {
            var regrant = await api.Http.PostAsJsonAsync("/api/v1/users/bob/grants/revoke", new GrantRequest("developer", null, null));
            Assert.True(regrant.IsSuccessStatusCode, await regrant.Content.ReadAsStringAsync());
            var onOne = await api.Http.PostAsJsonAsync("/api/v1/users/bob/grants", new GrantRequest("developer", "elsewhere", null));
            Assert.True(onOne.IsSuccessStatusCode, await onOne.Content.ReadAsStringAsync());
        }
        var hidden = await page.GotoAsync("/projects/payroll");
        Assert.Equal(404, hidden!.Status);
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("no project named 'payroll'");
        var missing = await page.GotoAsync("/projects/nope");
        Assert.Equal(404, missing!.Status);
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("no project named 'nope'");
        var hiddenApi = await FetchAsync(page, "/api/v1/projects/payroll/runs");
        Assert.Equal((404, "no project named 'payroll'"), (hiddenApi.Status, ErrorOf(hiddenApi.Body)));
        Assert.Empty(browser.PageErrors);
    }

    [Fact]
    public async Task MissingRunProjectDeploymentOrAddress_GiveHtml404Pages_WhileTheApiAnswersJson()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline(Pipeline);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        var run = await page.GotoAsync("/runs/9999");
        Assert.Equal(404, run!.Status);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Not found");
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("no run 9999");
        await Expect(page.Locator("#error-parent")).ToHaveCountAsync(0); // a run's address names no project
        await Expect(page.Locator("#error-home")).ToHaveAttributeAsync("href", "/");
        await Expect(page.Locator("header .user")).ToBeVisibleAsync();

        var project = await page.GotoAsync("/projects/nope");
        Assert.Equal(404, project!.Status);
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("no project named 'nope'");
        await Expect(page.Locator("#error-parent")).ToHaveCountAsync(0);
        var underMissing = await page.GotoAsync("/projects/nope/releases/1.0.0");
        Assert.Equal(404, underMissing!.Status);
        await Expect(page.Locator("#error-parent")).ToHaveCountAsync(0); // no link to a project that does not exist either

        // A missing thing of an existing project leads up to the project.
        var deployment = await page.GotoAsync("/projects/shop/deployments/42");
        Assert.Equal(404, deployment!.Status);
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("project 'shop' has no deployment 42");
        await Expect(page.Locator("#error-parent")).ToHaveTextAsync("Project shop");
        await page.Locator("#error-parent").ClickAsync();
        await Expect(page.Locator("h1")).ToContainTextAsync("shop");
        Assert.Equal("/projects/shop", new Uri(page.Url).AbsolutePath);

        // An address no route knows: the site's page too, with the signed-in user's navigation.
        var unknown = await page.GotoAsync("/no/such/page");
        Assert.Equal(404, unknown!.Status);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Not found");
        await Expect(page.Locator("#error-message")).ToHaveTextAsync("There is no page at /no/such/page.");
        await Expect(page.Locator("#error-home")).ToHaveAttributeAsync("href", "/");
        await Expect(page.Locator("header .user")).ToBeVisibleAsync();
        await Expect(page.Locator("header nav a[href='/audit']")).ToBeVisibleAsync();
        // Someone not signed in gets the same page without anyone's navigation.
        await using (var stranger = await BrowserSession.StartAsync(server.Url))
        {
            var bare = await stranger.Page.GotoAsync("/no/such/page");
            Assert.Equal(404, bare!.Status);
            await Expect(stranger.Page.Locator("h1")).ToHaveTextAsync("Not found");
            await Expect(stranger.Page.Locator("header .user")).ToHaveCountAsync(0);
        }

        // The API keeps answering JSON, also to a browser.
        await page.GotoAsync("/");
        var viaApi = await FetchAsync(page, "/api/v1/runs/9999");
        Assert.Equal(404, viaApi.Status);
        Assert.Equal("no run 9999", ErrorOf(viaApi.Body));
        var noEndpoint = await FetchAsync(page, "/api/v1/nope");
        Assert.Equal(404, noEndpoint.Status);
        Assert.Equal("no API endpoint at GET /api/v1/nope: see docs/api.md", ErrorOf(noEndpoint.Body));
        var apiInBrowser = await page.GotoAsync("/api/v1/projects/nope");
        Assert.Equal(404, apiInBrowser!.Status);
        Assert.StartsWith("application/json", apiInBrowser.Headers["content-type"]);

        // The sign-out form on the "not found" page works (its anti-forgery token is the signed-in user's).
        await page.GotoAsync("/no/such/page");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/login", StringComparison.Ordinal));
        Assert.Empty(browser.PageErrors);
    }

    private static Task<PageForms.FetchResult> FetchAsync(IPage page, string path) =>
        page.EvaluateAsync<PageForms.FetchResult>("""
            async (path) => {
              const r = await fetch(path, { credentials: 'same-origin' });
              return { status: r.status, body: await r.text() };
            }
            """, path);

    private static string? ErrorOf(string json) => JsonDocument.Parse(json).RootElement.GetProperty("error").GetString();
}
