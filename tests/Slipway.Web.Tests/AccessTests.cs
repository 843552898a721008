using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

public sealed class AccessTests
{
    [Fact]
    public async Task UnauthenticatedVisitor_IsSentToSignIn()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;

        // A UI page without a session redirects to the sign-in page, remembering where the visitor was going.
        var response = await page.GotoAsync("/");
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Equal("/login", new Uri(page.Url).AbsolutePath);
        Assert.Equal(302, (await response.Request.RedirectedFrom!.ResponseAsync())!.Status);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();

        await page.GotoAsync("/agents");
        Assert.Equal("/login", new Uri(page.Url).AbsolutePath);
        Assert.Equal("/agents", new Uri(page.Url).Query.TrimStart('?').Split('&')
            .Select(p => p.Split('=', 2)).Where(p => p[0] == "returnUrl").Select(p => Uri.UnescapeDataString(p[1])).Single());

        // The API refuses the page's own requests when there is no session.
        Assert.Equal(401, await FetchStatusAsync(page, "/api/v1/projects"));

        // A wrong token shows the error and sets no cookie.
        await page.GetByLabel("API token").FillAsync("slp_not-a-real-token");
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Continue with token" }).ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/login", StringComparison.Ordinal));
        Assert.Equal(401, refused.Status);
        await Expect(page.Locator("p.error")).ToHaveTextAsync("that token is not valid");
        Assert.DoesNotContain(await browser.Context.CookiesAsync(), c => c.Name == "slipway_session");
        Assert.Equal(401, await FetchStatusAsync(page, "/api/v1/projects"));

        // The right token lands on the page the visitor asked for, with a cookie scripts cannot read.
        var tokenFile = Path.Combine(server.Options.FullDataDirectory, "initial-admin-token");
        Assert.True(File.Exists(tokenFile)); // the refused tries left it alone
        await page.GetByLabel("API token").FillAsync(SlipwayTestServer.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue with token" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/agents");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Agents");
        // The cookie holds a fresh session id, never the API token itself.
        var cookie = Assert.Single(await browser.Context.CookiesAsync(), c => c.Name == "slipway_session");
        Assert.StartsWith("slps_", cookie.Value);
        Assert.NotEqual(SlipwayTestServer.AdminToken, cookie.Value);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain("slipway_session", await page.EvaluateAsync<string>("() => document.cookie"));
        Assert.Equal(200, await FetchStatusAsync(page, "/api/v1/projects"));
        // The first sign-in with the initial admin token deleted its file from the server's disk.
        Assert.False(File.Exists(tokenFile));
    }

    [Fact]
    public async Task SignIn_DoesNotRedirectToAnotherSite()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;

        await page.GotoAsync("/login?returnUrl=" + Uri.EscapeDataString("//evil.invalid/x"));
        await page.GetByLabel("API token").FillAsync(SlipwayTestServer.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue with token" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/");
        Assert.Equal(new Uri(server.Url).Authority, new Uri(page.Url).Authority);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Projects");
    }

    private static Task<int> FetchStatusAsync(IPage page, string path) =>
        page.EvaluateAsync<int>("async (path) => (await fetch(path, { credentials: 'same-origin' })).status", path);
}
