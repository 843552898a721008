using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Issue 15: a browser following a live log through one server node sees the lines another node receives. Node A runs
/// the embedded agent (its job's output reaches A); the browser signs in on node B and watches the run there; then, with
/// the same cookie, it opens the run on node A: one key ring in the database, so either node accepts the session.
/// </summary>
public sealed class TwoNodeLogTests
{
    [Fact]
    public async Task ALiveLogFollowedThroughOneNode_ShowsLinesWrittenThroughAnother()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        // The two nodes share their blob store and hosted-repository directory, as a cluster's nodes must.
        using var shared = new TempDirectory();
        void Share(Slipway.Server.Hosting.ServerOptions o) { o.Blobs = Path.Combine(shared.Path, "blobs"); o.HostedDirectory = Path.Combine(shared.Path, "hosted"); }
        await using var a = await SlipwayTestServer.StartAsync(o => { o.Database = database; o.NodeName = "node-a"; Share(o); });
        await using var b = await SlipwayTestServer.StartAsync(o => { o.Database = database; o.NodeName = "node-b"; o.EmbeddedAgent = false; Share(o); });
        using var repo = TestRepos.WithPipeline("""
            stages:
              - name: build
                jobs:
                  - name: slow
                    run: |
                      for i in 1 2 3 4 5 6; do echo "line $i"; sleep 1; done
            """);
        await using var browser = await BrowserSession.StartAsync(b.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await a.Client.CreateProjectAsync("across", repo.Path, "main");
        var run = await TestRepos.FirstRunAsync(a, "across");
        await page.GotoAsync($"/runs/{run.Id}");
        var log = page.Locator(".job[data-job='slow'] pre.log");
        await Expect(log).ToContainTextAsync("line 2", new() { Timeout = 30_000 });
        Assert.Equal("running", (await b.Client.GetRunAsync(run.Id)).Status); // seen live, not after the end
        await Expect(log).ToContainTextAsync("line 6", new() { Timeout = 30_000 });
        var text = await log.TextContentAsync() ?? "";
        for (var i = 1; i <= 6; i++) Assert.Equal(1, RunPageTests.Count(text, $"line {i}"));

        // The session cookie B issued opens pages on A too.
        await page.GotoAsync($"{a.Url}/runs/{run.Id}");
        await Expect(page.Locator(".job[data-job='slow'] pre.log")).ToContainTextAsync("line 6");
        Assert.DoesNotContain("/login", page.Url);
    }
}
