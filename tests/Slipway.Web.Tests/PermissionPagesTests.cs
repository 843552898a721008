using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>What a user may not do is neither shown nor accepted, however the request is made.</summary>
public sealed class PermissionPagesTests
{
    private const string SlowPipeline = """
        stages:
          - name: build
            jobs:
              - name: wait
                run: sleep 60
        """;

    [Fact]
    public async Task Viewer_SeesNoRunButtons_AndAForcedCancelIsRefused()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(SlowPipeline);
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("victor", "Victor Viewer", "viewer");
        await server.Client.CreateProjectAsync("slow", repo.Path, "main");
        var run = await TestRepos.FirstRunAsync(server, "slow");
        await server.WaitForRunAsync(run.Id, TimeSpan.FromSeconds(30), r => r.Status == "running");

        await using var viewer = await BrowserSession.StartAsync(server.Url);
        var page = viewer.Page;
        await TestApi.SignInWithPasswordAsync(page, "victor");
        await page.GotoAsync($"/runs/{run.Id}");
        await Expect(page.Locator("#run > p .status")).ToHaveTextAsync("running");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToHaveCountAsync(0);
        await Expect(page.Locator("form[action$='/cancel'], form[action$='/retry']")).ToHaveCountAsync(0);
        var nav = page.Locator("header nav");
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToHaveCountAsync(0);
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Roles" })).ToHaveCountAsync(0);
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Audit" })).ToHaveCountAsync(0);
        await page.GotoAsync("/agents");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Disable" })).ToHaveCountAsync(0);
        await page.GotoAsync($"/runs/{run.Id}");

        // The cancel form's POST, forced from the page: without the anti-forgery token it is refused before anything else...
        var without = await PostFormAsync(page, $"/runs/{run.Id}/cancel", withToken: false);
        Assert.Equal(400, without.Status);
        Assert.Contains("anti-forgery", without.Body);
        // ...and with the token (taken from the sign-out form) the access rule refuses it, saying why.
        var with = await PostFormAsync(page, $"/runs/{run.Id}/cancel", withToken: true);
        Assert.Equal(403, with.Status);
        Assert.Contains($"user:victor may not run.cancel on run {run.Id}", with.Body);
        var retry = await PostFormAsync(page, $"/runs/{run.Id}/retry", withToken: true);
        Assert.Equal(403, retry.Status);
        Assert.Contains("may not run.retry", retry.Body);
        // The API, called the way the page's script would (header token), says the same.
        var viaApi = await page.EvaluateAsync<PageForms.FetchResult>("""
            async (id) => {
              const token = document.querySelector('form.signout input[name="__RequestVerificationToken"]').value;
              const r = await fetch('/api/v1/runs/' + id + '/cancel', { method: 'POST', headers: { 'X-Slipway-Antiforgery': token } });
              return { status: r.status, body: await r.text() };
            }
            """, run.Id);
        Assert.Equal(403, viaApi.Status);
        Assert.Contains("may not run.cancel", viaApi.Body);
        Assert.Equal("running", (await server.Client.GetRunAsync(run.Id)).Status);

        // The admin sees the button, and it works.
        await using var admin = await BrowserSession.StartAsync(server.Url);
        await admin.SignInAsync();
        await admin.Page.GotoAsync($"/runs/{run.Id}");
        await Expect(admin.Page.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToHaveCountAsync(0);
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(admin.Page.Locator(".flash.ok")).ToHaveTextAsync("Run cancelled.");
        Assert.Equal("cancelled", (await server.WaitForRunAsync(run.Id, TimeSpan.FromSeconds(20))).Status);
        await admin.Page.GotoAsync($"/runs/{run.Id}");
        await Expect(admin.Page.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToHaveCountAsync(0);
        await Expect(admin.Page.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToBeVisibleAsync();

        // A run whose pipeline file is invalid has no jobs to retry: no button (a fixed push starts a new run).
        repo.WriteFile(".slipway.yml", "stages: [oops\n");
        repo.Commit("broken pipeline file");
        var broken = await server.WaitForRunAsync((await server.Client.StartRunAsync("slow", "main", repo.Head())).Id);
        Assert.Equal("failed", broken.Status);
        await admin.Page.GotoAsync($"/runs/{broken.Id}");
        await Expect(admin.Page.Locator("#run > p .status")).ToHaveTextAsync("failed");
        await Expect(admin.Page.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToHaveCountAsync(0);

        Assert.Empty(viewer.PageErrors);
        Assert.Empty(admin.PageErrors);
    }

    [Fact]
    public async Task FormPostedFromAnotherSite_DoesNotCreateAUser()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        var target = server.Url.TrimEnd('/') + "/users/create";
        await using var attacker = await AttackerSite.StartAsync(target);

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();
        await page.GotoAsync("/users");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Users");

        // From another site (localhost is not 127.0.0.1): the SameSite=Strict session cookie is not sent at all.
        var crossSite = await page.RunAndWaitForResponseAsync(() => page.GotoAsync($"http://localhost:{attacker.Port}/"),
            r => r.Url == target && r.Request.Method == "POST");
        Assert.Equal(401, crossSite.Status);

        // From another origin of the same site (another port): the cookie goes along, but there is no anti-forgery token.
        var crossOrigin = await page.RunAndWaitForResponseAsync(() => page.GotoAsync($"http://127.0.0.1:{attacker.Port}/"),
            r => r.Url == target && r.Request.Method == "POST");
        Assert.Equal(400, crossOrigin.Status);
        Assert.Contains("anti-forgery", await crossOrigin.TextAsync());

        Assert.Null(await api.FindUserAsync("eve"));
        Assert.Equal(2, attacker.Served); // both attack pages were really loaded
        // The admin's own session is unaffected.
        await page.GotoAsync(server.Url.TrimEnd('/') + "/users");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Users");
    }

    private static Task<PageForms.FetchResult> PostFormAsync(IPage page, string path, bool withToken) =>
        PageForms.PostAsync(page, path, withToken);

    /// <summary>A page on another port that, once loaded, submits a create-user form to Slipway: the classic CSRF attack.</summary>
    private sealed class AttackerSite : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _served;

        private AttackerSite(WebApplication app, int port) { _app = app; Port = port; }

        public int Port { get; }
        public int Served => _served;

        public static async Task<AttackerSite> StartAsync(string target)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            AttackerSite? site = null;
            app.MapGet("/", () =>
            {
                Interlocked.Increment(ref site!._served);
                return Results.Content($"""
                    <!DOCTYPE html><html><body>
                    <form id="f" method="post" action="{target}">
                      <input name="username" value="eve"><input name="displayName" value="Eve">
                      <input name="password" value="{TestApi.Password}">
                    </form>
                    <script>document.getElementById('f').submit();</script>
                    </body></html>
                    """, "text/html");
            });
            await app.StartAsync();
            site = new AttackerSite(app, new Uri(app.Urls.First()).Port);
            return site;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
