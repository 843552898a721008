using Xunit.Abstractions;
using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

public sealed class RunPageTests(ITestOutputHelper output)
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private void Step(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds:F2}s {what}");

    public const string ScreenshotPath = "/tmp/slipway-run-page.png";

    private const string SlowPipeline = """
        stages:
          - name: build
            jobs:
              - name: slow
                run: |
                  for i in 1 2 3 4 5 6 7 8 9; do echo "line $i"; sleep 1; done
          - name: check
            jobs:
              - name: quick
                run: echo "all good"
        """;

    [Fact]
    public async Task RunPage_ShowsTheStageGraphInOrder_WithDurations_AndLinksToEachJob()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline("""
            stages:
              - name: build
                jobs:
                  - { name: compile, run: "sleep 1.2; echo compiled" }
                  - { name: lint, run: "echo linted" }
              - name: check
                jobs:
                  - { name: unit, run: "echo tested" }
            """, "Two stages");
        await server.Client.CreateProjectAsync("graph", repo.Path, "main");
        var run = await server.WaitForRunAsync((await TestRepos.FirstRunAsync(server, "graph")).Id);
        Assert.Equal("succeeded", run.Status);
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await page.GotoAsync($"/runs/{run.Id}");

        var stages = page.Locator("#stage-graph > li.graph-stage");
        Assert.Equal(["build", "check"], await stages.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.stage)"));
        await Expect(stages.First).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("graph-succeeded"));
        Assert.Equal(["compile", "lint"], await stages.First.Locator("li.graph-job").EvaluateAllAsync<string[]>("j => j.map(e => e.dataset.job)"));
        // Durations: the run's, each stage's, each job's (compile slept 1.2 s).
        await Expect(page.Locator("#run-duration")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"took [0-9.]+s"));
        var compile = await stages.First.Locator("li.graph-job[data-job='compile'] .duration").TextContentAsync();
        Assert.Matches(@"^[0-9]+\.[0-9]s$", compile);
        Assert.True(double.Parse(compile!.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture) >= 1.2, compile);
        await Expect(page.Locator(".job[data-job='unit'] h3 .duration")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^[0-9.]+s$"));
        // A job in the graph links to its log below.
        await stages.Nth(1).Locator("a", new() { HasText = "unit" }).ClickAsync();
        Assert.EndsWith("#job-unit", page.Url);
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors));
    }

    [Fact]
    public async Task RunPage_OfRunningJob_ShowsLogLinesAsTheyAppear()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(SlowPipeline, "Slow job printing a line a second");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync(); // before the run exists, so the page is open while the job runs

        await server.Client.CreateProjectAsync("live", repo.Path, "main");
        var run = await TestRepos.FirstRunAsync(server, "live");
        await page.GotoAsync($"/runs/{run.Id}");

        var job = page.Locator(".job[data-job='slow']");
        var log = job.Locator("pre.log");
        var badge = job.Locator("h3 .status");

        // The first line arrives over server-sent events while the job is still running.
        await Expect(log).ToContainTextAsync("line 1");
        var early = await log.TextContentAsync() ?? "";
        Assert.DoesNotContain("line 4", early);
        Assert.NotEqual("succeeded", await badge.GetAttributeAsync("data-status"));
        await page.EvaluateAsync("() => { window.__sameDocument = 'yes'; }");

        // A later line appears in the same document: no reload, no navigation.
        await Expect(log).ToContainTextAsync("line 4");
        Assert.Equal("yes", await page.EvaluateAsync<string?>("() => window.__sameDocument ?? null"));
        var later = await log.TextContentAsync() ?? "";
        Assert.StartsWith(early, later); // text is appended, never replaced
        Assert.Equal(1, Count(later, "line 1"));
        // The status line and the stage graph follow too: the run's duration grows, the graph shows the job running.
        var duration = page.Locator("#run-duration");
        await Expect(duration).ToContainTextAsync("running for");
        var before = await duration.TextContentAsync();
        await Expect(duration).Not.ToHaveTextAsync(before!, new() { Timeout = 6000 });
        await Expect(page.Locator("#stage-graph li.graph-job[data-job='slow'] .status")).ToHaveTextAsync("running");
        Assert.Equal("yes", await page.EvaluateAsync<string?>("() => window.__sameDocument ?? null"));

        // The status badges follow the run to its end, still live.
        await Expect(badge).ToHaveTextAsync("succeeded");
        await Expect(badge).ToHaveAttributeAsync("data-status", "succeeded");
        await Expect(page.Locator(".job[data-job='quick'] h3 .status")).ToHaveTextAsync("succeeded");
        await Expect(page.Locator("#run > p .status")).ToHaveTextAsync("succeeded");
        await Expect(log).ToContainTextAsync("line 6");
        var final = await log.TextContentAsync() ?? "";
        for (var i = 1; i <= 6; i++) Assert.Equal(1, Count(final, $"line {i}"));
        Assert.Equal("succeeded", (await server.Client.GetRunAsync(run.Id)).Status);

        // Opened after the end, the page shows the whole log once.
        await page.GotoAsync($"/runs/{run.Id}");
        await Expect(log).ToContainTextAsync("line 6");
        await Expect(page.Locator(".job[data-job='quick'] pre.log")).ToContainTextAsync("all good");
        var reopened = await log.TextContentAsync() ?? "";
        for (var i = 1; i <= 6; i++) Assert.Equal(1, Count(reopened, $"line {i}"));
        await Expect(badge).ToHaveTextAsync("succeeded");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = ScreenshotPath, FullPage = true });

        Assert.Empty(browser.PageErrors);
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors)); // includes any Content-Security-Policy violation
    }

    internal static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
