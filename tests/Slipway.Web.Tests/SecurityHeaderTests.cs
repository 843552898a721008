using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

public sealed class SecurityHeaderTests
{
    [Fact]
    public async Task ContentSecurityPolicy_IsStrict()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;

        var login = await page.GotoAsync("/login");
        AssertStrict(await login!.AllHeadersAsync());

        await browser.SignInAsync();
        var projects = await page.GotoAsync("/");
        var headers = await projects!.AllHeadersAsync();
        AssertStrict(headers);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("DENY", headers["x-frame-options"]);

        // The browser enforces it: an inline script added to the page does not run, our own script does.
        await page.EvaluateAsync("""
            () => {
              const s = document.createElement('script');
              s.textContent = 'window.inlineRan = true';
              document.body.appendChild(s);
            }
            """);
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.inlineRan"));
        Assert.Contains(browser.ConsoleErrors, e => e.Contains("Content Security Policy", StringComparison.Ordinal));
        await Expect(page.Locator("script[src='/assets/app.js']")).ToHaveCountAsync(1);
        Assert.Empty(browser.PageErrors);
    }

    private static void AssertStrict(Dictionary<string, string> headers)
    {
        Assert.True(headers.TryGetValue("content-security-policy", out var csp), "no Content-Security-Policy header");
        var directives = csp!.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d.Split(' ').Skip(1).ToArray());
        Assert.Equal(["'self'"], directives["script-src"]);
        Assert.Equal(["'self'"], directives["default-src"]);
        Assert.Equal(["'none'"], directives["object-src"]);
        Assert.Equal(["'none'"], directives["frame-ancestors"]);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
    }
}
