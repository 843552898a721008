using Microsoft.Playwright;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Change request pages in a real browser: opening one, the diff, the review and merge forms with the rules they
/// enforce, the release and item timeline that follow a merge, what a viewer sees, and hostile text.
/// </summary>
public sealed class ChangeRequestPagesTests
{
    /// <summary>The job fails when the commit has a file named FAIL; main is the release branch.</summary>
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: test
                run: test ! -e FAIL
        release:
          branch: main
          version: "1.2.{run}"
        """;

    private const string HostileTitle = "<script>alert(1)</script> $(rm -rf /)";

    // git accepts '<', '>', '$', '(' and ')' in ref names; no spaces.
    private const string HostileBranch = "feature/SHOP-1-<script>alert(1)</script>$(id)";

    /// <summary>
    /// Project "shop" keyed SHOP with item SHOP-1 (its first release made), developers dev1 and dev2 and viewer victor
    /// (password <see cref="TestApi.Password"/>). Slipway pushes merges into the repository while main is checked out there.
    /// </summary>
    private static async Task<(SlipwayTestServer Server, GitRepository Repo)> ShopAsync()
    {
        var server = await SlipwayTestServer.StartAsync();
        var repo = TestRepos.WithPipeline(Pipeline);
        try
        {
            repo.Run("config", "receive.denyCurrentBranch", "updateInstead");
            repo.WriteFile("app.txt", "v0\n");
            repo.Commit("app");
            var first = await server.CreateProjectAndWaitAsync("shop", repo.Path);
            Assert.Equal("succeeded", first.Status);
            await TestRepos.ReleaseOfAsync(server, "shop", first.Id);
            await server.Client.SetItemKeyAsync("shop", "SHOP");
            await server.Client.CreateWorkItemAsync("shop", "Cart shows the total", null, "feature");
            using var api = TestApi.Admin(server);
            await api.CreateUserAsync("dev1", null, "developer");
            await api.CreateUserAsync("dev2", null, "developer");
            await api.CreateUserAsync("victor", null, "viewer");
            return (server, repo);
        }
        catch
        {
            repo.Dispose();
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Makes <paramref name="branch"/> from main with one commit writing <paramref name="files"/>, and waits for its run.</summary>
    private static async Task<RunDto> BranchAsync(SlipwayTestServer server, GitRepository repo, string branch, string message,
        params (string Path, string Content)[] files)
    {
        repo.Checkout("main");
        repo.CreateBranch(branch);
        repo.Checkout(branch);
        foreach (var (path, content) in files) repo.WriteFile(path, content);
        repo.Commit(message);
        var run = await TestRepos.RunHeadAsync(server, "shop", repo, branch);
        repo.Checkout("main"); // the merge's push updates main's work tree, which must be clean
        return run;
    }

    [Fact]
    public async Task Developer_OpensChangeRequest_OwnApprovalIsRefused_SecondDeveloperApprovesAndMerges_ThenItIsReleased()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        var branchRun = await BranchAsync(server, repo, "feature/SHOP-1-x", "SHOP-1: cart total",
            ("app.txt", "v1\n"), ("cart.txt", "total <b>42</b>\n"));
        Assert.Equal("succeeded", branchRun.Status);

        // dev1 opens the change request from the project page.
        await using var dev1 = await BrowserSession.StartAsync(server.Url);
        var page = dev1.Page;
        await TestApi.SignInWithPasswordAsync(page, "dev1");
        await page.GotoAsync("/projects/shop");
        await page.Locator("#change-requests").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("shop: change requests");
        await Expect(page.Locator("#no-change-requests")).ToBeVisibleAsync();
        var form = page.Locator("#open-change-request");
        await Expect(form.GetByLabel("Target branch")).ToHaveValueAsync("main");
        await form.GetByLabel("Source branch").SelectOptionAsync("feature/SHOP-1-x");
        await form.GetByLabel("Title").FillAsync("Cart shows the total");
        await form.GetByLabel("Description").FillAsync("Adds the total.\nSecond line: <i>not italic</i>");
        await form.GetByRole(AriaRole.Button, new() { Name = "Open change request" }).ClickAsync();

        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Change request #1 opened.");
        Assert.Equal("/projects/shop/change-requests/1", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Change request #1: Cart shows the total");
        await Expect(page.Locator("#cr-state .status")).ToHaveTextAsync("open");
        await Expect(page.Locator("#cr-source")).ToHaveTextAsync("feature/SHOP-1-x");
        await Expect(page.Locator("#cr-source-head")).ToHaveTextAsync(branchRun.Commit[..12]);
        await Expect(page.Locator("#cr-description")).ToHaveTextAsync("Adds the total.\nSecond line: <i>not italic</i>");
        await Expect(page.Locator("#cr-items li[data-key='SHOP-1'] a")).ToHaveAttributeAsync("href", "/projects/shop/items/1");
        await Expect(page.Locator($"#head-runs tr[data-run='{branchRun.Id}'] .status")).ToHaveTextAsync("succeeded");
        await Expect(page.Locator($"#head-runs tr[data-run='{branchRun.Id}'] a")).ToHaveAttributeAsync("href", $"/runs/{branchRun.Id}");
        await Expect(page.Locator("#commits tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#commits td.subject")).ToHaveTextAsync("SHOP-1: cart total");
        await Expect(page.Locator("#files tr[data-path='cart.txt'] td.added")).ToHaveTextAsync("+1");
        await Expect(page.Locator("#files tr[data-path='app.txt'] td.deleted")).ToHaveTextAsync("-1");

        // The diff is text, each line classed by its kind.
        var diff = page.Locator("#diff");
        await Expect(diff.Locator(".diff-add", new() { HasText = "total <b>42</b>" })).ToHaveTextAsync("+total <b>42</b>\n");
        await Expect(diff.Locator(".diff-del")).ToHaveTextAsync("-v0\n");
        await Expect(diff.Locator(".diff-add", new() { HasText = "v1" })).ToHaveCountAsync(1);
        Assert.True(await diff.Locator(".diff-hunk").CountAsync() >= 2);
        await Expect(diff.Locator(".diff-file").First).ToHaveTextAsync("diff --git a/app.txt b/app.txt\n");
        await Expect(page.Locator("main b, main i")).ToHaveCountAsync(0);

        // Not mergeable: no approval yet. The button says so and is disabled.
        var unmet = page.Locator("#unmet-rules");
        await Expect(unmet.Locator("li")).ToHaveCountAsync(1);
        await Expect(unmet.Locator("li[data-rule='approvals']")).ToContainTextAsync("approvals: refused by rule 'distinct-approvers': 1 approval by distinct users needed, there are none");
        var merge = page.Locator("#merge-form").GetByRole(AriaRole.Button, new() { Name = "Merge" });
        await Expect(merge).ToBeDisabledAsync();

        // dev1 approving their own change is refused, with the rule named on the page.
        var review = page.Locator("#review-form");
        await review.GetByLabel("Approve").CheckAsync();
        await review.GetByRole(AriaRole.Button, new() { Name = "Submit review" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("refused by rule 'actor-not-author'");
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("dev1 wrote this change request");
        await Expect(page.Locator("#no-reviews")).ToBeVisibleAsync();
        await Expect(page.Locator("#unmet-rules li[data-rule='approvals']")).ToHaveCountAsync(1);

        // dev2 approves, with a comment, then merges with the button.
        await using var dev2 = await BrowserSession.StartAsync(server.Url);
        var page2 = dev2.Page;
        await TestApi.SignInWithPasswordAsync(page2, "dev2");
        await page2.GotoAsync("/projects/shop/change-requests");
        await page2.Locator("#change-requests tr[data-number='1']").GetByRole(AriaRole.Link, new() { Name = "Cart shows the total" }).ClickAsync();
        var review2 = page2.Locator("#review-form");
        await review2.GetByLabel("Approve").CheckAsync();
        await review2.GetByLabel("Comment", new() { Exact = true }).FillAsync("Looks good.\nShip it.");
        await review2.GetByRole(AriaRole.Button, new() { Name = "Submit review" }).ClickAsync();
        await Expect(page2.Locator(".flash.ok")).ToHaveTextAsync("You approved change request #1.");
        var approval = page2.Locator("#reviews tr[data-reviewer='dev2']");
        await Expect(approval).ToContainTextAsync("approved");
        await Expect(approval.Locator("pre.comment")).ToHaveTextAsync("Looks good.\nShip it.");
        await Expect(approval.Locator(".dismissed-marker")).ToHaveCountAsync(0);
        await Expect(page2.Locator("#mergeable")).ToBeVisibleAsync();
        await Expect(page2.Locator("#unmet-rules")).ToHaveCountAsync(0);

        var merge2 = page2.Locator("#merge-form").GetByRole(AriaRole.Button, new() { Name = "Merge" });
        await Expect(merge2).ToBeEnabledAsync();
        await page2.Locator("#merge-form").GetByLabel("Strategy").SelectOptionAsync("merge");
        await merge2.ClickAsync();
        await Expect(page2.Locator(".flash.ok")).ToContainTextAsync("Change request #1 merged into main (merge) as ");
        await Expect(page2.Locator("#cr-state .status")).ToHaveTextAsync("merged");
        await Expect(page2.Locator("#cr-state")).ToContainTextAsync("by dev2");
        await Expect(page2.Locator("#merge-form")).ToHaveCountAsync(0);
        await Expect(page2.Locator("#review-form")).ToHaveCountAsync(0);
        var merged = await server.Client.GetChangeRequestAsync("shop", 1);
        Assert.Equal(("merged", "dev2"), (merged.State, merged.MergedBy));
        Assert.Contains(await server.Client.ListAuditAsync(new AuditFilterOptions(Actor: "dev2", Action: "cr.merge", Outcome: "succeeded")),
            e => e.Target == "project:shop cr:1");
        Assert.Contains(await server.Client.ListAuditAsync(new AuditFilterOptions(Actor: "dev1", Action: "cr.review", Outcome: "denied")),
            e => e.Target == "project:shop cr:1");

        // The merge started main's run; its release lists SHOP-1.
        var mainRun = await RunOfCommitAsync(server, merged.MergeCommit!);
        Assert.Equal("succeeded", mainRun.Status);
        var release = await TestRepos.ReleaseOfAsync(server, "shop", mainRun.Id);
        Assert.Equal($"1.2.{mainRun.Number}", release.Version);
        await page.GotoAsync("/projects/shop/releases");
        var row = page.Locator($"#releases tr[data-version='{release.Version}']");
        await Expect(row.Locator(".item-count")).ToHaveTextAsync("1");
        await row.GetByRole(AriaRole.Link, new() { Name = release.Version }).ClickAsync();
        await Expect(page.Locator("#release-items tr[data-key='SHOP-1']")).ToContainTextAsync("Cart shows the total");

        // The item's timeline: opened by dev1, merged by dev2, each linking to the change request.
        await page.Locator("#release-items").GetByRole(AriaRole.Link, new() { Name = "SHOP-1" }).ClickAsync();
        var opened = page.Locator("#timeline tr[data-kind='change_request']");
        await Expect(opened).ToContainTextAsync("change request #1 opened");
        await Expect(opened.Locator("td").Last).ToHaveTextAsync("dev1");
        await Expect(opened.GetByRole(AriaRole.Link, new() { Name = "#1" })).ToHaveAttributeAsync("href", "/projects/shop/change-requests/1");
        var mergedEvent = page.Locator("#timeline tr[data-kind='change_request_merged']");
        await Expect(mergedEvent).ToContainTextAsync("change request #1 merged");
        await Expect(mergedEvent.Locator("td").Last).ToHaveTextAsync("dev2");
        await Expect(mergedEvent.GetByRole(AriaRole.Link, new() { Name = "#1" })).ToHaveAttributeAsync("href", "/projects/shop/change-requests/1");
        await Expect(page.Locator("#timeline tr[data-kind='release']")).ToContainTextAsync(release.Version);

        await page.GotoAsync("/projects/shop/change-requests?state=merged");
        await Expect(page.Locator("#change-requests tr[data-number='1'] .status")).ToHaveTextAsync("merged");
        await page.GotoAsync("/projects/shop/change-requests?state=open");
        await Expect(page.Locator("#change-requests tbody tr")).ToHaveCountAsync(0);

        foreach (var browser in new[] { dev1, dev2 })
        {
            Assert.Empty(browser.Dialogs);
            Assert.Empty(browser.PageErrors);
        }
    }

    [Fact]
    public async Task Viewer_SeesChangeRequests_ButNoFormsOrButtons_AndForcedPostsAreRefused()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        await BranchAsync(server, repo, "feature/SHOP-1-x", "SHOP-1: cart", ("cart.txt", "total\n"));
        var cr = await server.Client.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Cart", null, "feature/SHOP-1-x", null));

        await using var viewer = await BrowserSession.StartAsync(server.Url);
        var page = viewer.Page;
        await TestApi.SignInWithPasswordAsync(page, "victor");
        await page.GotoAsync("/projects/shop");
        await page.Locator("#change-requests").ClickAsync();
        await Expect(page.Locator($"#change-requests tr[data-number='{cr.Number}'] td.title")).ToHaveTextAsync("Cart");
        await Expect(page.Locator("#open-change-request")).ToHaveCountAsync(0);
        await Expect(page.GetByText("Open change request")).ToHaveCountAsync(0);

        await page.GotoAsync($"/projects/shop/change-requests/{cr.Number}");
        await Expect(page.Locator("#unmet-rules li[data-rule='approvals']")).ToBeVisibleAsync();
        await Expect(page.Locator("#diff .diff-add", new() { HasText = "total" })).ToBeVisibleAsync();
        await Expect(page.Locator("main form")).ToHaveCountAsync(0);
        await Expect(page.Locator("main button")).ToHaveCountAsync(0);

        var posts = new (string Path, string Action, Dictionary<string, string> Fields)[]
        {
            ($"/projects/shop/change-requests/{cr.Number}/review", "cr.review", new() { ["verdict"] = "approve" }),
            ($"/projects/shop/change-requests/{cr.Number}/merge", "cr.merge", new() { ["strategy"] = "merge" }),
            ($"/projects/shop/change-requests/{cr.Number}/close", "cr.write", new()),
            ($"/projects/shop/change-requests/{cr.Number}/auto-merge", "cr.merge", new() { ["enabled"] = "true" }),
            ("/projects/shop/change-requests/create", "cr.write", new() { ["source"] = "feature/SHOP-1-x", ["title"] = "x" }),
        };
        foreach (var (path, action, fields) in posts)
        {
            var forced = await PageForms.PostAsync(page, path, withToken: true, fields);
            Assert.Equal(403, forced.Status);
            Assert.Contains($"user:victor may not {action} on project 'shop'", forced.Body);
        }
        var after = await server.Client.GetChangeRequestAsync("shop", cr.Number);
        Assert.Equal(("open", 0, (string?)null), (after.State, after.Reviews.Count, after.AutoMerge));
        Assert.Single(await server.Client.ListChangeRequestsAsync("shop"));
        Assert.Empty(viewer.PageErrors);
    }

    [Fact]
    public async Task HostileTitleAndBranch_AreShownAsText_AndClosingAndReopeningWork()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        await BranchAsync(server, repo, HostileBranch, HostileTitle, ("x.html", "<img src=x onerror=\"window.pwned='diff'\">\n"));

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "dev1");
        await page.GotoAsync("/projects/shop/change-requests");
        var form = page.Locator("#open-change-request");
        await form.GetByLabel("Source branch").SelectOptionAsync(HostileBranch);
        await form.GetByLabel("Title").FillAsync(HostileTitle);
        await form.GetByLabel("Description").FillAsync(HostileTitle + "\n<img src=x onerror=\"window.pwned='description'\">");
        await form.GetByRole(AriaRole.Button, new() { Name = "Open change request" }).ClickAsync();

        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Change request #1 opened.");
        await Expect(page.Locator("h1")).ToHaveTextAsync($"Change request #1: {HostileTitle}");
        await Expect(page.Locator("#cr-source")).ToHaveTextAsync(HostileBranch);
        await Expect(page.Locator("#cr-description")).ToHaveTextAsync(HostileTitle + "\n<img src=x onerror=\"window.pwned='description'\">");
        await Expect(page.Locator("#commits td.subject")).ToHaveTextAsync(HostileTitle);
        await Expect(page.Locator("#diff .diff-add")).ToHaveTextAsync("+<img src=x onerror=\"window.pwned='diff'\">\n");
        await Expect(page.Locator($"#head-runs td.branch")).ToHaveTextAsync(HostileBranch);
        await AssertNothingRanAsync(page);

        await page.GotoAsync("/projects/shop/change-requests");
        var row = page.Locator("#change-requests tr[data-number='1']");
        await Expect(row.Locator("td.title")).ToHaveTextAsync(HostileTitle);
        await Expect(row.Locator(".branch").First).ToHaveTextAsync(HostileBranch);
        await AssertNothingRanAsync(page);

        // The author closes it and opens it again.
        await row.GetByRole(AriaRole.Link, new() { Name = "#1" }).ClickAsync();
        await page.Locator("#state-form").GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Change request #1 closed.");
        await Expect(page.Locator("#cr-state")).ToContainTextAsync("closed by dev1");
        await Expect(page.Locator("#merge")).ToHaveCountAsync(0);
        await Expect(page.Locator("#review-form")).ToHaveCountAsync(0);
        await page.Locator("#state-form").GetByRole(AriaRole.Button, new() { Name = "Reopen" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Change request #1 reopened.");
        await Expect(page.Locator("#cr-state .status")).ToHaveTextAsync("open");
        await AssertNothingRanAsync(page);

        Assert.Empty(browser.Dialogs);
        Assert.Empty(browser.PageErrors);
    }

    [Fact]
    public async Task MergeButton_ListsUnmetRules_WhenTheHeadPipelineFailed_AndAForcedMergeIsRefusedWithThem()
    {
        var (server, repo) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        var run = await BranchAsync(server, repo, "feature/SHOP-1-broken", "SHOP-1: broken", ("FAIL", "yes\n"));
        Assert.Equal("failed", run.Status);
        // Opened by the admin, so dev1 may approve; the failed run is then the only rule unmet.
        var cr = await server.Client.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Broken", null, "feature/SHOP-1-broken", null));

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "dev1");
        await page.GotoAsync($"/projects/shop/change-requests/{cr.Number}");
        await Expect(page.Locator($"#head-runs tr[data-run='{run.Id}'] .status")).ToHaveTextAsync("failed");
        var review = page.Locator("#review-form");
        await review.GetByLabel("Approve").CheckAsync();
        await review.GetByRole(AriaRole.Button, new() { Name = "Submit review" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"You approved change request #{cr.Number}.");

        var unmet = page.Locator("#unmet-rules li");
        await Expect(unmet).ToHaveCountAsync(1);
        await Expect(unmet.Locator(".rule")).ToHaveTextAsync("green-pipeline");
        await Expect(unmet.Locator(".message")).ToHaveTextAsync($"the run of the head commit {run.Commit[..12]} did not succeed");
        var merge = page.Locator("#merge-form").GetByRole(AriaRole.Button, new() { Name = "Merge" });
        await Expect(merge).ToBeDisabledAsync();

        // Forced past the disabled button, the server refuses and lists the rule.
        await merge.EvaluateAsync("b => { b.disabled = false; }");
        await merge.ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync($"cannot merge change request #{cr.Number}");
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("green-pipeline: the run of the head commit");
        await Expect(page.Locator("#cr-state .status")).ToHaveTextAsync("open");
        Assert.Contains(await server.Client.ListAuditAsync(new AuditFilterOptions(Actor: "dev1", Action: "cr.merge", Outcome: "failed")),
            e => e.Target == $"project:shop cr:{cr.Number}" && e.Detail!.Contains("green-pipeline"));

        // Auto-merge can be set (it waits for the rules) and turned off again.
        var auto = page.Locator("#auto-merge-form");
        await auto.GetByLabel("Strategy").SelectOptionAsync("squash");
        await auto.GetByRole(AriaRole.Button, new() { Name = "Merge automatically when ready" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Change request #{cr.Number} will merge by itself (squash) once every rule holds.");
        await Expect(page.Locator("#auto-merge")).ToContainTextAsync("(squash)");
        await Expect(page.Locator("#auto-merge")).ToContainTextAsync("in the name of dev1");
        await Expect(page.Locator("#checked-strategy")).ToHaveTextAsync("squash");
        await page.Locator("#auto-merge-form").GetByRole(AriaRole.Button, new() { Name = "Turn off auto-merge" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Auto-merge turned off on change request #{cr.Number}.");
        await Expect(page.Locator("#auto-merge")).ToHaveCountAsync(0);
        Assert.Equal("open", (await server.Client.GetChangeRequestAsync("shop", cr.Number)).State);
        Assert.Empty(browser.PageErrors);
    }

    /// <summary>Waits for the run of <paramref name="commit"/> (started by the merge) to end.</summary>
    private static async Task<RunDto> RunOfCommitAsync(SlipwayTestServer server, string commit)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var run = (await server.Client.ListRunsAsync("shop")).FirstOrDefault(r => r.Commit == commit);
            if (run is not null) return await server.WaitForRunAsync(run.Id);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no run of {commit}");
            await Task.Delay(100);
        }
    }

    private static async Task AssertNothingRanAsync(IPage page)
    {
        // Give a would-be onerror handler time to fire before looking.
        await page.WaitForLoadStateAsync(LoadState.Load);
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));
        Assert.Equal(0, await page.Locator("script:not([src])").CountAsync());
        Assert.Equal(0, await page.Locator("main img, main script, main b, main i").CountAsync());
    }
}
