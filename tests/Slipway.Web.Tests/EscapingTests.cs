using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

public sealed class EscapingTests
{
    // git accepts '<' and '>' in ref names (checked with `git check-ref-format --branch`).
    private const string Branch = "feat/<b>bold</b>";
    private const string CommitMessage = "Try <i>italic</i> & <img src=x onerror=\"window.pwned='commit'\">";
    private const string ScriptLine = "<script>window.pwned='log'</script>";
    private const string ImgLine = "<img src=x onerror=\"window.pwned='img'\">";

    // The job prints markup; a quoted heredoc keeps bash from touching it.
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: print
                run: |
                  cat <<'EOF'
                  <script>window.pwned='log'</script>
                  <img src=x onerror="window.pwned='img'">
                  EOF
        """;

    [Fact]
    public async Task Pages_EscapeUserText()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(Pipeline);
        repo.CreateBranch(Branch);
        repo.Checkout(Branch);
        repo.Commit(CommitMessage);
        repo.Checkout("main");

        await server.Client.CreateProjectAsync("escape", repo.Path, "main");
        var run = await server.Client.StartRunAsync("escape", Branch, null);
        var finished = await server.WaitForRunAsync(run.Id, TimeSpan.FromSeconds(30));
        Assert.Equal("succeeded", finished.Status);
        Assert.Equal(Branch, finished.Branch);

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        // Project page: the branch name is shown as text in both tables, never parsed as markup.
        await page.GotoAsync("/projects/escape");
        await Expect(page.Locator("#branches td.branch", new() { HasText = Branch })).ToHaveCountAsync(1);
        await Expect(page.Locator("#runs td.branch", new() { HasText = Branch })).ToHaveCountAsync(1);
        await Expect(page.Locator("#branches").GetByText(Branch, new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("#run-pipeline option", new() { HasText = Branch })).ToHaveAttributeAsync("value", Branch);
        await Expect(page.Locator("main b")).ToHaveCountAsync(0);
        await AssertNothingRanAsync(page);

        // Run page: branch, commit message and log lines are text too.
        await page.GotoAsync($"/runs/{run.Id}");
        await Expect(page.Locator("#run strong.branch")).ToHaveTextAsync(Branch);
        await Expect(page.Locator("pre.commit-message")).ToHaveTextAsync(CommitMessage);
        var log = page.Locator(".job[data-job='print'] pre.log");
        await Expect(log).ToContainTextAsync(ScriptLine);
        await Expect(log).ToContainTextAsync(ImgLine);
        await Expect(page.GetByText(ScriptLine)).ToBeVisibleAsync();
        await Expect(page.Locator("main b, main i, main img, main script")).ToHaveCountAsync(0);
        Assert.Equal(0, await log.Locator("*").CountAsync()); // only text nodes inside the log
        await AssertNothingRanAsync(page);

        Assert.Empty(browser.Dialogs);
        Assert.Empty(browser.PageErrors);
    }

    private static async Task AssertNothingRanAsync(IPage page)
    {
        // Give a would-be onerror handler time to fire before looking.
        await page.WaitForLoadStateAsync(LoadState.Load);
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));
        Assert.Equal(0, await page.Locator("script:not([src])").CountAsync());
    }
}
