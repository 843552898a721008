using System.Net;
using System.Net.Http.Json;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// The work item page as "one page per feature from request to production": the change request with its reviewers, the
/// release, each deployment (linked to the deployment's page) with who requested and who approved it, a timeline that
/// tells reviews, approvals and later releases too, and a stage badge that follows rollbacks; and the board's columns per
/// environment. Deployments run on the embedded agent (pool build).
/// </summary>
public sealed class WorkItemStoryPagesTests
{
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: echo built
        release:
          branch: main
          version: "1.0.{run}"
        deploy:
          run: "echo deploying $SLIPWAY_RELEASE to $SLIPWAY_ENVIRONMENT"
        """;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ItemPage_TellsReviewersReleaseDeploymentsAndApprovers_AndItsBadgeFollowsRollbacks_BoardHasEnvironmentColumns()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(Pipeline);
        using var api = TestApi.Admin(server);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        var first = await TestRepos.FirstRunAsync(server, "shop");
        await CreateEnvironmentAsync(api, new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
        await CreateEnvironmentAsync(api, new EnvironmentRequest("production", 1, false, "build", [], 1, "analyst", false, null));
        foreach (var (user, role) in new[] { ("ann", "analyst"), ("bob", "analyst"), ("dana", "developer") }) await api.CreateUserAsync(user, null, role);
        Assert.Equal("succeeded", (await server.WaitForRunAsync(first.Id)).Status);
        var old = (await TestRepos.ReleaseOfAsync(server, "shop", first.Id)).Version;
        await WaitAsync(api, "the first release on staging", async () => await CurrentAsync(api, "staging") == old);
        // Production gets the first release too (so it has one to roll back to), approved by bob.
        await using var bob = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(bob.Page, "bob");
        var before = await PromoteAsync(api);
        await ApproveAsync(bob, before, "first one");
        await WaitAsync(api, "the first release on production", async () => await StateAsync(api, before) == "succeeded");

        // SHOP-1: a branch, a change request that dana approves, then the commit on main that the next release carries.
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        await server.Client.CreateWorkItemAsync("shop", "Faster checkout");
        repo.CreateBranch("feature/SHOP-1-checkout");
        repo.Checkout("feature/SHOP-1-checkout");
        repo.WriteFile("checkout.txt", "fast");
        repo.Commit("SHOP-1: faster checkout");
        await TestRepos.RunHeadAsync(server, "shop", repo, "feature/SHOP-1-checkout");
        var cr = await server.Client.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Faster checkout", null, "feature/SHOP-1-checkout", null));
        await using var dana = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(dana.Page, "dana");
        var review = await PageForms.PostAndFollowAsync(dana.Page, $"/projects/shop/change-requests/{cr.Number}/review",
            new Dictionary<string, string> { ["verdict"] = "approve", ["comment"] = "looks right" });
        Assert.Contains("approved", WebUtility.HtmlDecode(review.Body));

        repo.Checkout("main");
        repo.WriteFile("checkout.txt", "fast");
        repo.Commit("SHOP-1: faster checkout on main");
        var version = (await TestRepos.ReleaseOfAsync(server, "shop", (await TestRepos.RunHeadAsync(server, "shop", repo, "main")).Id)).Version;
        await WaitAsync(api, "the new release on staging", async () => await CurrentAsync(api, "staging") == version);
        var stagingDeployment = await LatestAsync(api, "staging");

        // Promoted to production by the admin; bob (analyst) approves; it succeeds.
        var promotion = await PromoteAsync(api);
        await ApproveAsync(bob, promotion, "checked on staging");
        await WaitAsync(api, "production to succeed", async () => await StateAsync(api, promotion) == "succeeded");

        await using var ann = await BrowserSession.StartAsync(server.Url);
        var page = ann.Page;
        await TestApi.SignInWithPasswordAsync(page, "ann");
        await page.GotoAsync("/projects/shop/items/1");
        await Expect(page.Locator("#item-stage")).ToHaveTextAsync("on production");
        await Expect(page.Locator("#item-stage")).ToHaveClassAsync("status status-succeeded");
        await Expect(page.Locator("#environments .badge")).ToHaveTextAsync(["on staging", "on production"]);
        await Expect(page.Locator("#environments .badge[data-environment='production']"))
            .ToHaveAttributeAsync("href", $"/projects/shop/deployments/{promotion}");

        // The change request, with dana's approval; the release; each deployment with its link, requester and approver.
        var change = page.Locator($"#item-change-requests tr[data-number='{cr.Number}']");
        await Expect(change.Locator("a")).ToHaveAttributeAsync("href", $"/projects/shop/change-requests/{cr.Number}");
        await Expect(change.Locator(".author")).ToHaveTextAsync("admin");
        await Expect(change.Locator(".reviewer[data-reviewer='dana']")).ToHaveTextAsync("dana: approved");
        await Expect(page.Locator($"#item-releases li[data-version='{version}'] a")).ToHaveAttributeAsync("href", $"/projects/shop/releases/{version}");
        var production = page.Locator($"#item-deployments tr[data-number='{promotion}']");
        await Expect(production.Locator("a")).ToHaveAttributeAsync("href", $"/projects/shop/deployments/{promotion}");
        await Expect(production.Locator(".initiator")).ToHaveTextAsync("admin");
        await Expect(production.Locator(".approvers")).ToHaveTextAsync("bob");
        await Expect(production.Locator(".status")).ToHaveTextAsync("succeeded");
        await Expect(page.Locator($"#item-deployments tr[data-number='{stagingDeployment}'] .initiator")).ToHaveTextAsync("slipway");
        // The timeline links deployments, not their runs.
        await Expect(page.Locator("#timeline tr[data-kind='deployed'] a")).ToHaveCountAsync(2);
        foreach (var href in await page.Locator("#timeline tr[data-kind='deployed'] a").EvaluateAllAsync<string[]>("as => as.map(a => a.getAttribute('href'))"))
            Assert.StartsWith("/projects/shop/deployments/", href);
        // The timeline tells the review and the production approval too, in order: request, review, release, approval.
        var reviewed = page.Locator("#timeline tr[data-kind='review']");
        await Expect(reviewed).ToContainTextAsync($"review of change request #{cr.Number}: approved: looks right");
        await Expect(reviewed.Locator("a")).ToHaveAttributeAsync("href", $"/projects/shop/change-requests/{cr.Number}");
        await Expect(reviewed.Locator("td").Last).ToHaveTextAsync("dana");
        var approvedThere = page.Locator("#timeline tr[data-kind='deployment_approved']");
        await Expect(approvedThere).ToHaveCountAsync(1); // the first release's approval is not this item's story
        await Expect(approvedThere).ToContainTextAsync($"deployment #{promotion} (production {version}) approved: checked on staging");
        await Expect(approvedThere.Locator("td").Last).ToHaveTextAsync("bob");
        var kinds = await page.Locator("#timeline tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.kind).filter(k => k)");
        Assert.True(Array.IndexOf(kinds, "created") < Array.IndexOf(kinds, "review")
            && Array.IndexOf(kinds, "review") < Array.IndexOf(kinds, "release")
            && Array.IndexOf(kinds, "release") < Array.IndexOf(kinds, "deployment_approved"), string.Join(", ", kinds));
        await Expect(page.Locator("#timeline tr[data-kind='later_release']")).ToHaveCountAsync(0);

        // The board: the states, then staging and production; SHOP-1 is on production.
        await page.GotoAsync("/projects/shop/board");
        await Expect(page.Locator(".board-column h2")).ToHaveTextAsync(["Requested 0", "In development 0", "In review 0", "Merged 0", "Released 0",
            "On staging 0", "On production 1"]);
        await Expect(page.Locator(".board-column[data-environment='production'] .card[data-key='SHOP-1']")).ToBeVisibleAsync();

        // Production is rolled back (bob approves again): SHOP-1 is no longer on production, only on staging.
        var rolledBack = await RollBackAsync(api, "production");
        await ApproveAsync(bob, rolledBack, "roll it back");
        await WaitAsync(api, "the production rollback", async () => await StateAsync(api, rolledBack) == "succeeded");
        await page.GotoAsync("/projects/shop/items/1");
        await Expect(page.Locator("#item-stage")).ToHaveTextAsync("on staging");
        await Expect(page.Locator("#environments .badge")).ToHaveTextAsync(["on staging", "rolled back from production"]);
        await Expect(page.Locator("#environments .badge[data-environment='production']")).ToHaveAttributeAsync("href", $"/projects/shop/deployments/{rolledBack}");
        var rollback = page.Locator($"#item-deployments tr[data-number='{rolledBack}']");
        await Expect(rollback).ToHaveAttributeAsync("data-contains", "no");
        await Expect(rollback.Locator(".approvers")).ToHaveTextAsync("bob");
        await Expect(page.Locator("#timeline tr[data-kind='rolled_back'] a")).ToHaveAttributeAsync("href", $"/projects/shop/deployments/{rolledBack}");
        await page.GotoAsync("/projects/shop/board");
        await Expect(page.Locator(".board-column[data-environment='staging'] .card[data-key='SHOP-1']")).ToBeVisibleAsync();
        await Expect(page.Locator(".board-column[data-environment='production'] .card")).ToHaveCountAsync(0);

        // Staging too: the item is nowhere now, and the badge says so in red instead of a green "released".
        var stagingRollback = await RollBackAsync(api, "staging");
        await WaitAsync(api, "the staging rollback", async () => await StateAsync(api, stagingRollback) == "succeeded");
        await page.GotoAsync("/projects/shop/items/1");
        await Expect(page.Locator("#item-stage")).ToHaveTextAsync("rolled back from production");
        await Expect(page.Locator("#item-stage")).ToHaveClassAsync("status status-failed");
        await Expect(page.Locator("#item-stage")).ToHaveAttributeAsync("data-state", "released");
        await page.GotoAsync("/projects/shop/board");
        var card = page.Locator(".board-column[data-state='released'] .card[data-key='SHOP-1']");
        await Expect(card.Locator(".card-stage")).ToHaveTextAsync("rolled back from production");

        // A commit on main released and on staging (auto-deploy): its version.
        async Task<string> NextOnStagingAsync(string docs, string message)
        {
            repo.WriteFile("docs.txt", docs);
            repo.Commit(message);
            var version = (await TestRepos.ReleaseOfAsync(server, "shop", (await TestRepos.RunHeadAsync(server, "shop", repo, "main")).Id)).Version;
            await WaitAsync(api, $"{version} on staging", async () => await CurrentAsync(api, "staging") == version);
            return version;
        }

        // The next release carries SHOP-1 too and reaches staging: the timeline says the item is also in it.
        var later = await NextOnStagingAsync("later", "docs");
        await page.GotoAsync("/projects/shop/items/1");
        var alsoIn = page.Locator("#timeline tr[data-kind='later_release']");
        await Expect(alsoIn).ToContainTextAsync($"also in release {later}");
        await Expect(alsoIn.Locator("a").First).ToHaveAttributeAsync("href", $"/projects/shop/releases/{later}");
        await Expect(page.Locator("#item-stage")).ToHaveTextAsync("on staging");

        // One more release reaches staging, where SHOP-1 already is: not a move, but the timeline tells it.
        var latest = await NextOnStagingAsync("later still", "more docs");
        await page.GotoAsync("/projects/shop/items/1");
        var carried = page.Locator("#timeline tr[data-kind='carried']");
        await Expect(carried).ToHaveCountAsync(1);
        await Expect(carried).ToContainTextAsync($"still on staging {latest}, a later release with it too");
        await Expect(carried.Locator("a")).ToHaveAttributeAsync("href", $"/projects/shop/deployments/{await LatestAsync(api, "staging")}");

        Assert.Empty(ann.PageErrors);
        Assert.Empty(bob.PageErrors);
    }

    private static async Task CreateEnvironmentAsync(TestApi api, EnvironmentRequest request)
    {
        var response = await api.Http.PostAsJsonAsync("/api/v1/projects/shop/environments", request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task ApproveAsync(BrowserSession approver, long number, string comment)
    {
        var approved = await PageForms.PostAndFollowAsync(approver.Page, $"/projects/shop/deployments/{number}/approve",
            new Dictionary<string, string> { ["comment"] = comment });
        Assert.Contains($"You approved deployment #{number}", WebUtility.HtmlDecode(approved.Body));
    }

    private static async Task<long> PromoteAsync(TestApi api)
    {
        var response = await api.Http.PostAsJsonAsync("/api/v1/projects/shop/promotions", new DeployRequest(null, "production"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DeploymentDto>())!.Number;
    }

    private static async Task<long> RollBackAsync(TestApi api, string environment)
    {
        var response = await api.Http.PostAsJsonAsync("/api/v1/projects/shop/rollbacks", new RollbackRequest(environment));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DeploymentDto>())!.Number;
    }

    private static async Task<string?> CurrentAsync(TestApi api, string environment) =>
        (await api.Http.GetFromJsonAsync<DashboardDto>("/api/v1/projects/shop/dashboard"))!
        .Environments.Single(c => c.Environment == environment).Current?.Release;

    private static async Task<long> LatestAsync(TestApi api, string environment) =>
        (await api.Http.GetFromJsonAsync<DashboardDto>("/api/v1/projects/shop/dashboard"))!
        .Environments.Single(c => c.Environment == environment).Current!.Number;

    private static async Task<string> StateAsync(TestApi api, long number) =>
        (await api.Http.GetFromJsonAsync<DeploymentDto>($"/api/v1/projects/shop/deployments/{number}"))!.State;

    private static async Task WaitAsync(TestApi api, string what, Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {Bound.TotalSeconds}s for {what}");
            await Task.Delay(200);
        }
    }
}
