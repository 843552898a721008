using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>The work item board, list and item pages, and the analyst's forms, through a real browser against a real server.</summary>
public sealed class WorkItemPagesTests
{
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: check
                run: "true"
        """;

    /// <summary>HTML and shell metacharacters: shown as text, never run by the browser nor by anything else.</summary>
    private const string HostileTitle = "<script>alert(1)</script> $(rm -rf /)";

    /// <summary>A project keyed SHOP whose first run has ended, and a user with each of the given roles (password <see cref="TestApi.Password"/>).</summary>
    private static async Task<(SlipwayTestServer Server, GitRepository Repo)> ShopAsync(params (string User, string Role)[] users)
    {
        var server = await SlipwayTestServer.StartAsync();
        var repo = TestRepos.WithPipeline(Pipeline);
        try
        {
            await server.CreateProjectAndWaitAsync("shop", repo.Path);
            await server.Client.SetItemKeyAsync("shop", "SHOP");
            using var api = TestApi.Admin(server);
            foreach (var (user, role) in users) await api.CreateUserAsync(user, null, role);
            return (server, repo);
        }
        catch
        {
            repo.Dispose();
            await server.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task AnalystCreatesItem_AndTheBoardMovesIt_ToInDevelopment_WhenABranchNamingItRuns()
    {
        var (server, repo) = await ShopAsync(("ann", "analyst"));
        await using var _ = server;
        using var __ = repo;
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "ann");

        // From the project page to the board, then the create form.
        await page.GotoAsync("/projects/shop");
        await page.Locator("#board").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("shop: board");
        await Expect(page.Locator(".board-column")).ToHaveCountAsync(5);
        await page.Locator("summary", new() { HasText = "New work item" }).ClickAsync();
        var form = page.Locator("#create-item");
        await form.GetByLabel("Title").FillAsync(HostileTitle);
        await form.GetByLabel("Kind").SelectOptionAsync("bug");
        await form.GetByLabel("Description").FillAsync("Steps:\n1. <b>open</b> the cart");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create item" }).ClickAsync();

        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("SHOP-1 created.");
        Assert.Equal("/projects/shop/items/1", new Uri(page.Url).AbsolutePath);
        Assert.Equal("", new Uri(page.Url).Query); // shown once: a reload does not repeat it
        // A banner is only ever a message this server wrote for this browser, never text from someone's link.
        await page.GotoAsync("/projects/shop?error=" + Uri.EscapeDataString("Your session expired: sign in again at http://evil.example/login"));
        await Expect(page.Locator("h1")).ToContainTextAsync("shop");
        await Expect(page.Locator(".flash")).ToHaveCountAsync(0);
        await page.GotoAsync("/projects/shop/items/1");
        await Expect(page.Locator("h1")).ToHaveTextAsync($"SHOP-1: {HostileTitle}");
        await Expect(page.Locator("pre.description")).ToHaveTextAsync("Steps:\n1. <b>open</b> the cart");
        var created = await server.Client.GetWorkItemAsync("shop", 1);
        Assert.Equal((HostileTitle, "bug", "ann"), (created.Title, created.Kind, created.Requester));
        // In a narrow window the header wraps: the user's name and Sign out stay in view.
        await page.SetViewportSizeAsync(800, 700);
        await page.ReloadAsync();
        var signOutRight = await page.Locator("header.top form.signout button").EvaluateAsync<double>("b => b.getBoundingClientRect().right");
        Assert.True(signOutRight <= 800, $"Sign out ends at {signOutRight} px in an 800 px window");
        Assert.True(await page.Locator("header.top").EvaluateAsync<bool>("h => h.scrollWidth <= h.clientWidth"));
        await page.SetViewportSizeAsync(1280, 800);

        // The key in the address, as people write it, leads to the item; another project's key to a page saying so.
        await page.GotoAsync("/projects/shop/items/shop-1");
        Assert.Equal("/projects/shop/items/1", new Uri(page.Url).AbsolutePath);
        var other = await page.GotoAsync("/projects/shop/items/BLOG-1");
        Assert.Equal(404, other!.Status);
        await Expect(page.Locator("main")).ToContainTextAsync("project 'shop' has no work item BLOG-1");

        await page.GotoAsync("/projects/shop/board");
        var card = page.Locator(".board-column[data-state='requested'] .card[data-key='SHOP-1']");
        await Expect(card.Locator(".card-title")).ToHaveTextAsync(HostileTitle);
        await Expect(card.Locator(".kind")).ToHaveTextAsync("bug");
        await Expect(card.Locator(".card-requester")).ToHaveTextAsync("requested by ann");

        // A developer pushes a branch naming the item; its run links it.
        repo.CreateBranch("feature/SHOP-1-cart");
        repo.Checkout("feature/SHOP-1-cart");
        repo.WriteFile("cart.txt", "total");
        var commit = repo.Commit("SHOP-1: cart shows the total");
        var run = await TestRepos.RunHeadAsync(server, "shop", repo, "feature/SHOP-1-cart");
        Assert.Equal("succeeded", run.Status);

        await page.ReloadAsync();
        await Expect(page.Locator(".board-column[data-state='requested'] .card")).ToHaveCountAsync(0);
        var moved = page.Locator(".board-column[data-state='in_development'] .card[data-key='SHOP-1']");
        await Expect(moved.Locator(".card-title")).ToHaveTextAsync(HostileTitle);
        await Expect(page.Locator(".board-column[data-state='in_development'] h2 .count")).ToHaveTextAsync("1");

        // The card leads to the item, whose timeline has the branch, the commit and the run, with who and when.
        await moved.GetByRole(AriaRole.Link, new() { Name = "SHOP-1" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync($"SHOP-1: {HostileTitle}");
        var timeline = page.Locator("#timeline tbody tr");
        await Expect(timeline).ToHaveCountAsync(4);
        Assert.Equal(["created", "branch", "commit", "run"], await timeline.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.kind)"));
        await Expect(timeline.Nth(0)).ToContainTextAsync("ann");
        await Expect(timeline.Nth(1).Locator(".branch")).ToHaveTextAsync("feature/SHOP-1-cart");
        await Expect(timeline.Nth(1)).ToContainTextAsync("Slipway Tests");
        await Expect(timeline.Nth(2).Locator("code")).ToHaveTextAsync(commit[..12]);
        await Expect(timeline.Nth(3).GetByRole(AriaRole.Link, new() { Name = $"run #{run.Number}" })).ToHaveAttributeAsync("href", $"/runs/{run.Id}");
        await Expect(timeline.Nth(3)).ToContainTextAsync("(push)");
        await Expect(timeline.Nth(3).Locator("td").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"));

        // The list view is one click away and shows the same state.
        await page.GotoAsync("/projects/shop/board");
        await page.Locator("#list-view").ClickAsync();
        await Expect(page.Locator("#items tr[data-key='SHOP-1'] .status")).ToHaveTextAsync("in development");
        await Expect(page.Locator("#items tr[data-key='SHOP-1'] td.title")).ToHaveTextAsync(HostileTitle);

        Assert.Empty(browser.Dialogs);
        Assert.Empty(browser.PageErrors);
        Assert.Equal(0, await page.Locator("main script, main b").CountAsync());
    }

    [Fact]
    public async Task AnalystEditsItem_OnlyChangedFieldsAreSavedAndAudited()
    {
        var (server, repo) = await ShopAsync(("ann", "analyst"));
        await using var _ = server;
        using var __ = repo;
        await server.Client.CreateWorkItemAsync("shop", "Cart total", "\nstarts with a blank line", "feature");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "ann");

        await page.GotoAsync("/projects/shop/items/1");
        await page.Locator("summary", new() { HasText = "Edit" }).ClickAsync();
        var form = page.Locator("#edit-item");
        await Expect(form.GetByLabel("Title")).ToHaveValueAsync("Cart total");
        await Expect(form.GetByLabel("Kind")).ToHaveValueAsync("feature");
        await Expect(form.GetByLabel("Description")).ToHaveValueAsync("\nstarts with a blank line");
        // Saving untouched changes nothing.
        await form.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Nothing to save: no field was changed.");

        await page.Locator("summary", new() { HasText = "Edit" }).ClickAsync();
        await form.GetByLabel("Title").FillAsync("Cart shows the total <with tax>");
        await form.GetByLabel("Kind").SelectOptionAsync("chore");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("SHOP-1 saved.");
        await Expect(page.Locator("h1")).ToHaveTextAsync("SHOP-1: Cart shows the total <with tax>");
        await Expect(page.Locator("#item-kind")).ToHaveTextAsync("chore");

        var item = await server.Client.GetWorkItemAsync("shop", 1);
        Assert.Equal(("Cart shows the total <with tax>", "chore", "\nstarts with a blank line", "ann"), (item.Title, item.Kind, item.Description, item.UpdatedBy));
        using var api = TestApi.Admin(server);
        var audit = await api.Http.GetStringAsync("/api/v1/audit?action=item.write&actor=ann");
        Assert.Contains("work item SHOP-1 edited (title, kind)", audit);

        // An edit the rules refuse (a control character, put in by script: nobody types one) is reported on the page and changes nothing.
        await page.Locator("summary", new() { HasText = "Edit" }).ClickAsync();
        await form.GetByLabel("Title").EvaluateAsync("input => { input.value = 'bell\\u0007'; }");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("the title contains a control character");
        Assert.Equal("/projects/shop/items/1", new Uri(page.Url).AbsolutePath);
        Assert.Equal("Cart shows the total <with tax>", (await server.Client.GetWorkItemAsync("shop", 1)).Title);
        Assert.Empty(browser.PageErrors);
    }

    [Fact]
    public async Task Viewer_SeesNoCreateOrEditForm_AndForcedPostsAreRefused()
    {
        var (server, repo) = await ShopAsync(("victor", "viewer"));
        await using var _ = server;
        using var __ = repo;
        await server.Client.CreateWorkItemAsync("shop", "Cart total", null, "feature");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "victor");

        foreach (var path in new[] { "/projects/shop/board", "/projects/shop/items" })
        {
            await page.GotoAsync(path);
            await Expect(page.Locator(".card[data-key='SHOP-1'], #items tr[data-key='SHOP-1']")).ToHaveCountAsync(1);
            await Expect(page.Locator("summary", new() { HasText = "New work item" })).ToHaveCountAsync(0);
            await Expect(page.Locator("form[action*='/items/create']")).ToHaveCountAsync(0);
        }
        await page.GotoAsync("/projects/shop/items/1");
        await Expect(page.Locator("h1")).ToHaveTextAsync("SHOP-1: Cart total");
        await Expect(page.Locator("#edit-item, summary:has-text('Edit')")).ToHaveCountAsync(0);

        var create = await PageForms.PostAsync(page, "/projects/shop/items/create", withToken: true,
            new Dictionary<string, string> { ["title"] = "sneaked in", ["kind"] = "bug" });
        Assert.Equal(403, create.Status);
        Assert.Contains("user:victor may not item.write on project 'shop'", create.Body);
        var edit = await PageForms.PostAsync(page, "/projects/shop/items/1/edit", withToken: true,
            new Dictionary<string, string> { ["title"] = "renamed" });
        Assert.Equal(403, edit.Status);
        var withoutToken = await PageForms.PostAsync(page, "/projects/shop/items/create", withToken: false,
            new Dictionary<string, string> { ["title"] = "sneaked in" });
        Assert.Equal(400, withoutToken.Status);

        var items = await server.Client.ListWorkItemsAsync("shop");
        Assert.Equal(["Cart total"], items.Select(i => i.Title));
        Assert.Empty(browser.PageErrors);
    }

    [Fact]
    public async Task ProjectWithoutKeyPrefix_TellsTheAnalystHowToSetOne()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline(Pipeline);
        await server.Client.CreateProjectAsync("plain", repo.Path, "main");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await page.GotoAsync("/projects/plain/board");

        await Expect(page.Locator("#no-key-prefix")).ToContainTextAsync("slipway project set-key plain PREFIX");
        await Expect(page.Locator("#no-key-prefix a")).ToHaveAttributeAsync("href", "/projects/plain/settings#set-item-key");
        await Expect(page.Locator("#create-item")).ToHaveCountAsync(0);
        await Expect(page.Locator(".board-column .card")).ToHaveCountAsync(0);
    }
}
