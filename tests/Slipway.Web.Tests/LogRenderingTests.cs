using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Job logs on the run page: ANSI colours become styled text, ::group:: and GitLab section markers become folds, an
/// empty log says so; all of it while the log streams in and again when the page is opened after the end. Log text
/// stays text: only spans, folds and class names the page chooses, never markup from the log.
/// </summary>
public sealed class LogRenderingTests
{
    // printf writes the escape bytes; the sleep makes the folds arrive over the live stream after the colours were shown.
    // The later job waits too: the run page reloads itself once the run ends, which would close a fold the live part opened.
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: colours
                run: |
                  printf '\033[31mred\033[0m plain \033[1;32mbold green\033[0m\n'
                  printf '\033[38;5;196mextended\033[0m <b>not bold</b> \033[2Jcleared \033]0;title\007after\n'
                  sleep 2
                  echo '::group::Compile things'
                  echo 'inside the group'
                  echo '::endgroup::'
                  printf 'section_start:%s:deps[collapsed=true]\r\033[0KInstall \033[33mdependencies\033[0m\n' "$(date +%s)"
                  echo 'hidden detail'
                  printf 'section_end:%s:deps\r\033[0K\n' "$(date +%s)"
                  echo 'section_start:not a marker'
                  echo done
              - name: quiet
                run: "true"
          - name: check
            jobs:
              - name: later
                run: sleep 8; echo checked
        """;

    [Fact]
    public async Task RunPage_ShowsColoursAndFolds_LiveAndAfterTheEnd_AndSaysWhenALogIsEmpty()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(Pipeline, "Coloured log");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync(); // before the run exists, so the page follows the log live

        await server.Client.CreateProjectAsync("colours", repo.Path, "main");
        var run = await TestRepos.FirstRunAsync(server, "colours");
        await page.GotoAsync($"/runs/{run.Id}");
        var log = page.Locator(".job[data-job='colours'] pre.log");

        // Live: the colours arrive first; the later stage's job has not started, so its box says it has nothing yet.
        await Expect(log.Locator("span.ansi-31")).ToHaveTextAsync("red");
        await Expect(page.Locator(".job[data-job='later'] pre.log")).ToHaveTextAsync("no output yet");
        await Expect(log.Locator("details.log-section")).ToHaveCountAsync(2);
        await AssertRenderedAsync(page, log);

        // Opened after the end: the same rendering from the whole log; an empty log says "no output".
        Assert.Equal("succeeded", (await server.WaitForRunAsync(run.Id)).Status);
        await page.GotoAsync($"/runs/{run.Id}");
        await Expect(page.Locator(".job[data-job='later'] pre.log")).ToContainTextAsync("checked");
        await AssertRenderedAsync(page, log);
        await Expect(page.Locator(".job[data-job='quiet'] pre.log")).ToHaveTextAsync("no output");

        Assert.Empty(browser.PageErrors);
        Assert.Empty(browser.Dialogs);
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors));
    }

    private static async Task AssertRenderedAsync(IPage page, ILocator log)
    {
        await Expect(log).ToContainTextAsync("done");
        await Expect(log.Locator("span.ansi-31")).ToHaveTextAsync("red");
        await Expect(log.Locator("span.ansi-bold.ansi-32")).ToHaveTextAsync("bold green");
        // 256-colour codes and other sequences (clear screen, window title) are dropped; their arguments are not read as other codes.
        await Expect(log).ToContainTextAsync("red plain bold green\nextended <b>not bold</b> cleared after\n");
        await Expect(log.Locator(".ansi-1, .ansi-bold", new() { HasText = "extended" })).ToHaveCountAsync(0);
        await Expect(page.GetByText("<b>not bold</b>")).ToBeVisibleAsync();

        // ::group:: is an open fold with its title; GitLab's collapsed section is closed, its title coloured too.
        var group = log.Locator("details.log-section[data-section='group']");
        await Expect(group.Locator("summary")).ToHaveTextAsync("Compile things");
        await Expect(group).ToHaveAttributeAsync("open", "");
        await Expect(group.GetByText("inside the group")).ToBeVisibleAsync();
        var deps = log.Locator("details.log-section[data-section='deps']");
        await Expect(deps.Locator("summary")).ToHaveTextAsync("Install dependencies");
        await Expect(deps.Locator("summary span.ansi-33")).ToHaveTextAsync("dependencies");
        await Expect(deps).Not.ToHaveAttributeAsync("open", "");
        await Expect(deps.GetByText("hidden detail")).ToBeHiddenAsync();
        await deps.Locator("summary").ClickAsync();
        await Expect(deps.GetByText("hidden detail")).ToBeVisibleAsync();
        // After the folds, lines go back to the log itself; a line that only looks like a marker stays text.
        await Expect(log.Locator(":scope > details")).ToHaveCountAsync(2);
        Assert.Contains("section_start:not a marker\ndone", await log.EvaluateAsync<string>(
            "pre => [...pre.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('')"));

        var text = await log.TextContentAsync() ?? "";
        foreach (var marker in new[] { "::group::", "::endgroup::", "section_start:1", "section_end:", "\u001b", "[0K", "[38;5", "\uFFFD" })
            Assert.DoesNotContain(marker, text);
        // Only elements the page makes, with class names and the open flag: nothing from the log is markup.
        var foreign = await log.EvaluateAsync<string[]>("""
            pre => [...pre.querySelectorAll('*')].flatMap(e =>
              [!['SPAN', 'DETAILS', 'SUMMARY', 'DIV'].includes(e.tagName) ? e.tagName : null,
               ...[...e.attributes].map(a => a.name).filter(n => !['class', 'open', 'data-section'].includes(n))]).filter(x => x)
            """);
        Assert.Empty(foreign);
        Assert.Equal(0, await page.Locator("main b").CountAsync());
    }

    [Fact]
    public async Task RetriedJob_EarlierAttemptsAreFolded_AndTheRunSaysHowLongItTookSinceTheRetry()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        // Fails twice (its own retry: 1), then passes once READY is set and the run is retried by hand.
        using var repo = TestRepos.WithPipeline("""
            stages:
              - name: build
                jobs:
                  - name: flaky
                    retry: 1
                    run: |
                      echo "output of try $SLIPWAY_ATTEMPT"
                      echo "[slipway] attempt 7 of job 'flaky' started 2020-01-01 00:00:00 UTC (mark deadbeef)"
                      echo "after the look-alike of try $SLIPWAY_ATTEMPT"
                      test "$READY" = yes
            """, "Flaky");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        var first = await server.WaitForRunAsync((await TestRepos.FirstRunAsync(server, "shop")).Id);
        Assert.Equal("failed", first.Status);
        await server.Client.SetVariableAsync("shop", "READY", "yes", secret: false);
        await server.Client.RetryRunAsync(first.Id, null);
        var run = await server.WaitForRunAsync(first.Id);
        Assert.Equal("succeeded", run.Status);

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();
        await page.GotoAsync($"/runs/{run.Id}");
        var log = page.Locator(".job[data-job='flaky'] pre.log");
        // Each earlier attempt folded under its number, closed; the last one's output in the open. The job's own look-alike
        // line (no mark the server gave) folds nothing.
        Assert.Equal(2, run.Stages[0].Jobs[0].AttemptMarks!.Count);
        await Expect(log.Locator("details.log-attempt")).ToHaveCountAsync(2);
        await Expect(log.Locator("details.log-attempt[data-attempt='1'] .log-section-body")).ToContainTextAsync("after the look-alike of try 1");
        var one = log.Locator("details.log-attempt[data-attempt='1']");
        // Each fold says how its attempt ended when its own retry put the job back (attempt 2 was retried by hand).
        await Expect(one.Locator("summary")).ToHaveTextAsync("attempt 1 — failed: the script exited with code 1");
        await Expect(one).Not.ToHaveAttributeAsync("open", "");
        await Expect(one.Locator(".log-section-body")).ToContainTextAsync("output of try 1");
        await Expect(one.Locator(".log-section-body")).Not.ToContainTextAsync("output of try 2");
        var two = log.Locator("details.log-attempt[data-attempt='2']");
        await Expect(two.Locator(".log-section-body")).ToContainTextAsync("[slipway] attempt 2 of job 'flaky' started ");
        await Expect(two.Locator(".log-section-body")).ToContainTextAsync("output of try 2");
        await Expect(two.Locator(".log-section-body")).Not.ToContainTextAsync("output of try 3");
        Assert.Equal(["attempt 1 — failed: the script exited with code 1", "attempt 2"], await log.Locator("details.log-attempt > summary").AllTextContentsAsync());
        // The mark is for the page: the reader sees the line without it.
        await Expect(two.Locator(".log-section-body")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"\[slipway\] attempt 2 of job 'flaky' started [0-9: -]+ UTC; attempt 1 failed: the script exited with code 1\n"));
        Assert.DoesNotContain("(mark ", await log.Locator("details.log-attempt").Nth(1).InnerTextAsync());
        await Expect(log).ToContainTextAsync("output of try 3");
        await Expect(log).ToContainTextAsync("after the look-alike of try 3");
        Assert.Equal(0, await log.Locator("details.log-attempt").GetByText("output of try 3").CountAsync());
        // The graph says the job took three attempts (its time is the last one's).
        await Expect(page.Locator("#stage-graph li.graph-job[data-job='flaky'] .attempts")).ToHaveTextAsync("attempt 3");
        // The run's duration counts from the retry, and says the whole span apart.
        await Expect(page.Locator("#run-duration")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"^took [0-9.]+m?s? since the retry at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"));
        await Expect(page.Locator("#run-duration-all")).ToContainTextAsync("from the first start");
        Assert.Empty(browser.PageErrors);
    }
}
