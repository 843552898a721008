using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

public sealed class LogStreamTests
{
    [Fact]
    public async Task RunPage_WhenTheLogStreamDrops_ResumesWithoutRepeatingLines()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        await using var proxy = new CuttableProxy(server.Url);
        using var repo = TestRepos.WithPipeline("""
            stages:
              - name: build
                jobs:
                  - name: slow
                    run: |
                      for i in 1 2 3 4 5 6 7 8; do echo "line $i"; sleep 1; done
            """);
        await using var browser = await BrowserSession.StartAsync(proxy.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await server.Client.CreateProjectAsync("resume", repo.Path, "main");
        var run = await TestRepos.FirstRunAsync(server, "resume");
        await page.GotoAsync($"/runs/{run.Id}");
        await page.EvaluateAsync("() => { window.__sameDocument = 'yes'; }");
        var log = page.Locator(".job[data-job='slow'] pre.log");
        await Expect(log).ToContainTextAsync("line 2");

        // The connection carrying the live log is cut, as a proxy's idle timeout would; the job runs on.
        Assert.True(proxy.CutAll() > 0);
        await Expect(log).ToContainTextAsync("line 7");
        Assert.Equal("yes", await page.EvaluateAsync<string?>("() => window.__sameDocument ?? null"));
        var text = await log.TextContentAsync() ?? "";
        for (var i = 1; i <= 7; i++) Assert.Equal(1, RunPageTests.Count(text, $"line {i}"));
    }
}
