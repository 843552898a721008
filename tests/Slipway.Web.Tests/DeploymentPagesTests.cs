using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// The talk's steps 6–7 in a real browser: the environments dashboard (refreshing live), promotion with its preview,
/// approvals and live logs on the deployment page, an automatic rollback after a failing verify, the work item page and
/// the evidence export; and the environment page's forms. Deployments run on the embedded agent (pool build).
/// </summary>
public sealed class DeploymentPagesTests
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
          verify: test ! -e "BROKEN-$SLIPWAY_ENVIRONMENT"
          rollback: auto
        """;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Project shop with staging (auto-deploy) and production (deployers role:analyst, one approval by role analyst),
    /// both on pool build; users ann and bob (analysts), victor (viewer) and dana (developer). Returns once the first release succeeded on staging.
    /// </summary>
    private static async Task<(SlipwayTestServer Server, GitRepository Repo, string Version)> ShopAsync()
    {
        var server = await SlipwayTestServer.StartAsync();
        var repo = TestRepos.WithPipeline(Pipeline);
        try
        {
            await server.Client.CreateProjectAsync("shop", repo.Path, "main");
            var first = await TestRepos.FirstRunAsync(server, "shop");
            using (var api = TestApi.Admin(server))
            {
                await CreateEnvironmentAsync(api, new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
                await CreateEnvironmentAsync(api, new EnvironmentRequest("production", 1, false, "build", ["role:analyst"], 1, "analyst", false, null));
                await api.CreateUserAsync("ann", null, "analyst");
                await api.CreateUserAsync("bob", null, "analyst");
                await api.CreateUserAsync("victor", null, "viewer");
                await api.CreateUserAsync("dana", null, "developer");
            }
            var run = await server.WaitForRunAsync(first.Id);
            Assert.Equal("succeeded", run.Status);
            var release = await TestRepos.ReleaseOfAsync(server, "shop", run.Id);
            await WaitAsync(server, "the first release on staging", async api =>
                (await DashboardAsync(api)).Environments.Single(c => c.Environment == "staging").Current?.Release == release.Version);
            return (server, repo, release.Version);
        }
        catch
        {
            repo.Dispose();
            await server.DisposeAsync();
            throw;
        }
    }

    private static async Task CreateEnvironmentAsync(TestApi api, EnvironmentRequest request)
    {
        var response = await api.Http.PostAsJsonAsync("/api/v1/projects/shop/environments", request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task<DashboardDto> DashboardAsync(TestApi api) =>
        (await api.Http.GetFromJsonAsync<DashboardDto>("/api/v1/projects/shop/dashboard"))!;

    /// <summary>Polls the API (as admin) until <paramref name="done"/> holds, for at most <see cref="Bound"/>.</summary>
    private static async Task WaitAsync(SlipwayTestServer server, string what, Func<TestApi, Task<bool>> done)
    {
        using var api = TestApi.Admin(server);
        var deadline = DateTime.UtcNow + Bound;
        while (!await done(api))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {Bound.TotalSeconds}s for {what}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Analyst_PromotesWithPreview_AnotherApproves_MatrixUpdatesLive_FailingVerifyRollsBack_ItemPageAndExportTellIt()
    {
        var (server, repo, version) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;

        await using var ann = await BrowserSession.StartAsync(server.Url);
        var page = ann.Page;
        await TestApi.SignInWithPasswordAsync(page, "ann");
        await page.GotoAsync("/projects/shop");
        await page.Locator("#environments").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("shop: environments");

        // Staging got the release by itself; production has nothing, and the promotion form says what would ship.
        var staging = page.Locator(".env-cell[data-environment='staging']");
        await Expect(staging.Locator(".current .version")).ToHaveTextAsync(version);
        await Expect(staging.Locator(".current .status")).ToHaveTextAsync("succeeded");
        await Expect(staging.Locator(".when")).ToContainTextAsync("by slipway");
        await Expect(staging.Locator("form.promote")).ToHaveCountAsync(0); // the first environment takes no promotion
        var production = page.Locator(".env-cell[data-environment='production']");
        await Expect(production.Locator(".current")).ToHaveTextAsync("Nothing deployed yet.");
        await Expect(production.Locator(".preview-releases")).ToHaveTextAsync(version);
        await production.GetByRole(AriaRole.Button, new() { Name = $"Promote {version} to production" }).ClickAsync();

        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Promotion #2 of {version} to production requested; it awaits approval.");
        Assert.Equal("/projects/shop/deployments/2", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("#deployment")).ToHaveAttributeAsync("data-state", "awaiting_approval");
        await Expect(page.Locator("#deployment-initiator")).ToHaveTextAsync("ann");
        await Expect(page.Locator("#deployment-kind")).ToHaveTextAsync("promote");

        // Ann may approve deployments, but not her own: no Approve button for her, and a forced post is refused naming the rule.
        await Expect(page.Locator("#own-deployment")).ToContainTextAsync("someone else approves it");
        await Expect(page.Locator("#approve-form")).ToHaveCountAsync(0);
        await Expect(page.Locator("#reject-form")).ToHaveCountAsync(1);
        var own = await PageForms.PostAndFollowAsync(page, "/projects/shop/deployments/2/approve", new Dictionary<string, string> { ["comment"] = "mine" });
        Assert.Contains("refused by rule 'initiator-not-approver'", WebUtility.HtmlDecode(own.Body));
        Assert.Contains("ann started this request and may not also approve it", WebUtility.HtmlDecode(own.Body));
        await page.ReloadAsync();
        await Expect(page.Locator("#deployment")).ToHaveAttributeAsync("data-state", "awaiting_approval");
        await Expect(page.Locator("#no-approvals")).ToBeVisibleAsync();

        // The dashboard shows it waiting.
        await page.GotoAsync("/projects/shop/environments");
        await Expect(production.Locator(".awaiting-count")).ToHaveTextAsync("1 awaiting approval");
        await Expect(production.Locator("ul.pending li[data-number='2'] .status")).ToHaveTextAsync("awaiting approval");
        // The same release is not offered for promotion again while it waits: the button says where the first request is.
        await Expect(production.GetByRole(AriaRole.Button, new() { Name = $"Promote {version} to production" })).ToBeDisabledAsync();
        await Expect(production.Locator(".on-its-way")).ToHaveTextAsync("on its way: #2 is awaiting approval");
        await page.EvaluateAsync("() => { window.slipwayNotReloaded = true; }"); // gone if the page were loaded again

        // Bob approves in the UI; the deployment queues, runs on the embedded agent and succeeds.
        await using var bob = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(bob.Page, "bob");
        await bob.Page.GotoAsync("/projects/shop/deployments/2");
        await bob.Page.Locator("#approve-form textarea[name='comment']").FillAsync("checked on staging");
        await bob.Page.Locator("#approve-form").GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(bob.Page.Locator(".flash.ok")).ToContainTextAsync("You approved deployment #2");
        var approval = bob.Page.Locator("#approvals tr[data-approver='bob']");
        await Expect(approval).ToContainTextAsync("approved");
        await Expect(approval).ToContainTextAsync("checked on staging");

        // Bob's page follows the deployment without a reload: its state, then the logs of its deploy and verify jobs.
        var live = new LocatorAssertionsToHaveAttributeOptions { Timeout = 60_000 };
        await Expect(bob.Page.Locator("#deployment")).ToHaveAttributeAsync("data-state", "succeeded", live);
        await Expect(bob.Page.Locator("#deployment-outcome")).ToHaveTextAsync("deployed and verified");
        await Expect(bob.Page.Locator("#approve-form")).ToHaveCountAsync(0);
        await Expect(bob.Page.Locator(".job[data-job='deploy'] pre.log")).ToContainTextAsync($"deploying {version} to production");
        await Expect(bob.Page.Locator(".job[data-job='verify'] .status")).ToHaveTextAsync("succeeded");
        var runHref = await bob.Page.Locator("#deployment-run").GetAttributeAsync("href");
        Assert.StartsWith("/runs/", runHref);

        // The run page carries the same log and links back.
        await bob.Page.GotoAsync(runHref!);
        await Expect(bob.Page.Locator("pre.log").First).ToContainTextAsync($"deploying {version} to production", new() { Timeout = 20_000 });
        await Expect(bob.Page.Locator("#run-deployment a")).ToHaveAttributeAsync("href", "/projects/shop/deployments/2");
        await Expect(bob.Page.Locator("#create-release")).ToHaveCountAsync(0);

        // Ann's dashboard, open all along, updated in place: the matrix shows the release on production.
        Assert.EndsWith("/projects/shop/environments", page.Url);
        await Expect(production.Locator(".current .version")).ToHaveTextAsync(version);
        await Expect(production.Locator(".current .status")).ToHaveTextAsync("succeeded");
        await Expect(production.Locator(".when")).ToContainTextAsync("by ann");
        await Expect(production.Locator(".no-promotion")).ToHaveTextAsync($"production already has {version} from staging.");
        await Expect(page.Locator("#deployments tr[data-number='2'] .status")).ToHaveTextAsync("succeeded");
        Assert.True(await page.EvaluateAsync<bool>("() => window.slipwayNotReloaded === true"));

        // The environment page lists it in the history.
        await production.GetByRole(AriaRole.Link, new() { Name = "production" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("shop environment production");
        await Expect(page.Locator("#env-approvals")).ToHaveTextAsync("1 distinct by role analyst");
        await Expect(page.Locator("#history tr[data-number='2'] .status")).ToHaveTextAsync("succeeded");

        // The next release carries work item SHOP-1 and breaks production's verify step.
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        await server.Client.CreateWorkItemAsync("shop", "Faster checkout");
        repo.WriteFile("BROKEN-production", "x");
        repo.Commit("SHOP-1: faster checkout");
        var second = (await TestRepos.ReleaseOfAsync(server, "shop", (await TestRepos.RunHeadAsync(server, "shop", repo, "main")).Id)).Version;

        // Staging takes it by itself (deployment #3); the dashboard shows it live and previews SHOP-1 for production.
        await page.GotoAsync("/projects/shop/environments");
        await Expect(staging.Locator(".current .version")).ToHaveTextAsync(second, new() { Timeout = 60_000 });
        await Expect(production.Locator(".preview-items li[data-key='SHOP-1']")).ToContainTextAsync("Faster checkout");
        await production.GetByRole(AriaRole.Button, new() { Name = $"Promote {second} to production" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Promotion #4 of {second} to production requested; it awaits approval.");
        await bob.Page.GotoAsync("/projects/shop/deployments/4");
        await bob.Page.Locator("#approve-form").GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(bob.Page.Locator(".flash.ok")).ToContainTextAsync("You approved deployment #4");

        // Verify fails on production; Slipway rolls production back to the first release by itself (deployment #5).
        await Expect(bob.Page.Locator("#deployment")).ToHaveAttributeAsync("data-state", "failed", live);
        await Expect(bob.Page.Locator("#deployment-outcome")).ToContainTextAsync("verify failed");
        await Expect(bob.Page.Locator(".job[data-job='verify'] .status")).ToHaveTextAsync("failed");
        await page.GotoAsync("/projects/shop/environments");
        await Expect(page.Locator("#deployments tr[data-number='5'] .status")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
        await Expect(page.Locator("#deployments tr[data-number='5']")).ToContainTextAsync("rollback");
        await Expect(page.Locator("#deployments tr[data-number='4'] .status")).ToHaveTextAsync("failed");
        await Expect(production.Locator(".current .version")).ToHaveTextAsync(version);
        await Expect(production.Locator(".current .deployment")).ToHaveTextAsync("#5");
        await Expect(production.Locator(".when")).ToContainTextAsync("by slipway");
        await Expect(staging.Locator(".current .version")).ToHaveTextAsync(second);

        // The work item page tells the same story.
        await page.GotoAsync("/projects/shop/items/1");
        await Expect(page.Locator("#environments .badge")).ToHaveTextAsync(["on staging", "rolled back from production"]);

        // So does the evidence export linked from production's page.
        await page.GotoAsync("/projects/shop/environments/production");
        var csvHref = await page.Locator("#export-csv").GetAttributeAsync("href");
        var csv = await page.APIRequest.GetAsync(csvHref!);
        Assert.Equal(200, csv.Status);
        var lines = (await csv.TextAsync()).Trim().Split('\n');
        Assert.Equal(4, lines.Length); // header, #2, #4, #5
        Assert.StartsWith($"2,production,{version},", lines[1]);
        Assert.Contains("approve by bob", lines[1]);
        Assert.StartsWith($"4,production,{second},", lines[2]);
        Assert.Contains("failed", lines[2]);
        Assert.StartsWith($"5,production,{version},", lines[3]);
        Assert.Contains("rollback", lines[3]);

        // The all-projects matrix (the nav's Deployments) tells it in one row.
        await page.Locator("#nav-deployments").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Deployments");
        await Expect(page.Locator("#matrix thead th")).ToHaveTextAsync(["Project", "staging", "production"]);
        var row = page.Locator("#matrix tr[data-project='shop']");
        await Expect(row.Locator("td[data-environment='staging'] .version")).ToHaveTextAsync(second);
        await Expect(row.Locator("td[data-environment='production'] .version")).ToHaveTextAsync(version);
        await Expect(row.Locator("td[data-environment='production'] .when")).ToContainTextAsync("by slipway");

        Assert.Empty(ann.PageErrors);
        Assert.Empty(bob.PageErrors);
    }

    [Fact]
    public async Task ProductionButtons_AreOfferedToItsDeployersAndApproversOnly_ADeveloperSeesNone_AndHerForcedRollbackIsRefused()
    {
        var (server, repo, version) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;

        await using var dana = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(dana.Page, "dana");
        await using var ann = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(ann.Page, "ann");

        // Dana (developer) may deploy to staging but is not among production's deployers (role:analyst): nothing to press there.
        await dana.Page.GotoAsync("/projects/shop/environments");
        var danaStaging = dana.Page.Locator(".env-cell[data-environment='staging']");
        var danaProduction = dana.Page.Locator(".env-cell[data-environment='production']");
        await Expect(danaStaging.Locator(".current .version")).ToHaveTextAsync(version);
        // One release on staging so far: the button is there for her, disabled, saying why.
        await Expect(danaStaging.GetByRole(AriaRole.Button, new() { Name = "Roll back staging" })).ToBeDisabledAsync();
        await Expect(danaStaging.Locator(".rollback-to")).ToHaveTextAsync($"nothing before {version} to roll back to");
        await Expect(danaProduction.Locator(".preview-releases")).ToHaveCountAsync(0);
        await Expect(danaProduction.Locator("form")).ToHaveCountAsync(0);
        await Expect(dana.Page.Locator("#deploy-form select[name='environment'] option")).ToHaveTextAsync(["staging"]);

        // Ann (analyst) is offered the promotion and asks for it.
        await ann.Page.GotoAsync("/projects/shop/environments");
        var annProduction = ann.Page.Locator(".env-cell[data-environment='production']");
        await Expect(ann.Page.Locator("#deploy-form select[name='environment'] option")).ToHaveTextAsync(["staging", "production"]);
        await annProduction.GetByRole(AriaRole.Button, new() { Name = $"Promote {version} to production" }).ClickAsync();
        await Expect(ann.Page.Locator(".flash.ok")).ToHaveTextAsync($"Promotion #2 of {version} to production requested; it awaits approval.");

        // Awaiting approval: ann (who asked) may reject or cancel but not approve; dana may do none of it; bob approves.
        await Expect(ann.Page.Locator("#approve-form")).ToHaveCountAsync(0);
        await Expect(ann.Page.Locator("#reject-form")).ToHaveCountAsync(1);
        await Expect(ann.Page.Locator("#cancel-form")).ToHaveCountAsync(1);
        await dana.Page.GotoAsync("/projects/shop/deployments/2");
        await Expect(dana.Page.Locator("#deployment")).ToHaveAttributeAsync("data-state", "awaiting_approval");
        await Expect(dana.Page.Locator("main form")).ToHaveCountAsync(0);
        await using var bob = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(bob.Page, "bob");
        await bob.Page.GotoAsync("/projects/shop/deployments/2");
        await Expect(bob.Page.Locator("#cancel-form")).ToHaveCountAsync(1);
        await bob.Page.Locator("#approve-form").GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(bob.Page.Locator(".flash.ok")).ToContainTextAsync("You approved deployment #2");
        await WaitAsync(server, "the release on production", async api =>
            (await DashboardAsync(api)).Environments.Single(c => c.Environment == "production").Current?.Release == version);

        // Production now has a release (its first: ann's Roll back is there but disabled), dana has none, and her forced post changes nothing.
        await ann.Page.GotoAsync("/projects/shop/environments");
        await Expect(annProduction.GetByRole(AriaRole.Button, new() { Name = "Roll back production" })).ToBeDisabledAsync();
        await dana.Page.GotoAsync("/projects/shop/environments");
        await Expect(danaProduction.Locator(".current .version")).ToHaveTextAsync(version);
        await Expect(danaProduction.Locator("form")).ToHaveCountAsync(0);
        await Expect(danaProduction.GetByRole(AriaRole.Button, new() { Name = "Roll back production" })).ToHaveCountAsync(0);
        var forced = await PageForms.PostAndFollowAsync(dana.Page, "/projects/shop/rollback",
            new Dictionary<string, string> { ["environment"] = "production", ["version"] = version });
        Assert.Contains("deployer: dana is not among those who may deploy to 'production'", WebUtility.HtmlDecode(forced.Body));
        using var api = TestApi.Admin(server);
        var deployments = (await api.Http.GetFromJsonAsync<List<DeploymentDto>>("/api/v1/projects/shop/deployments"))!;
        Assert.Equal([1, 2], deployments.Select(d => d.Number).Order());

        Assert.Empty(dana.PageErrors);
        Assert.Empty(ann.PageErrors);
        Assert.Empty(bob.PageErrors);
    }

    [Fact]
    public async Task ARejectedPromotion_ShowsOnTheDashboard_WhoAskedWhoRejectedAndWhy()
    {
        var (server, repo, version) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;
        await using var ann = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(ann.Page, "ann");
        await ann.Page.GotoAsync("/projects/shop/environments");
        var production = ann.Page.Locator(".env-cell[data-environment='production']");
        await production.GetByRole(AriaRole.Button, new() { Name = $"Promote {version} to production" }).ClickAsync();
        await Expect(ann.Page.Locator(".flash.ok")).ToHaveTextAsync($"Promotion #2 of {version} to production requested; it awaits approval.");

        await using var bob = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(bob.Page, "bob");
        await bob.Page.GotoAsync("/projects/shop/deployments/2");
        await bob.Page.Locator("#reject-form textarea[name='reason']").FillAsync("not before the <b>freeze</b> ends");
        await bob.Page.Locator("#reject-form").GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();
        await Expect(bob.Page.Locator("#deployment")).ToHaveAttributeAsync("data-state", "rejected");

        // Production has nothing yet; its latest request is the rejected one, saying who asked, who rejected and why (as text).
        await ann.Page.GotoAsync("/projects/shop/environments");
        await Expect(production.Locator(".current")).ToHaveTextAsync("Nothing deployed yet.");
        await Expect(production.Locator(".latest [data-status]")).ToHaveAttributeAsync("data-status", "rejected");
        await Expect(production.Locator(".latest .who")).ToHaveTextAsync("requested by ann, rejected by bob: not before the <b>freeze</b> ends");
        await Expect(production.Locator(".latest a")).ToHaveAttributeAsync("href", "/projects/shop/deployments/2");
        // A rejection is final, and the release may be promoted again.
        await Expect(production.GetByRole(AriaRole.Button, new() { Name = $"Promote {version} to production" })).ToBeEnabledAsync();
        Assert.Empty(ann.PageErrors);
        Assert.Empty(bob.PageErrors);
    }

    [Fact]
    public async Task Admin_CreatesAndChangesAnEnvironment_FreezesAndSetsASecret_InTheUi_AViewerSeesNoForms_AndForcedPostsAreRefused()
    {
        var (server, repo, version) = await ShopAsync();
        await using var _ = server;
        using var __ = repo;

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();

        // A new environment from the dashboard's form; then its settings changed on its own page.
        await page.GotoAsync("/projects/shop/environments");
        await page.Locator("#new-environment summary").ClickAsync();
        var create = page.Locator("#environment-form");
        await create.GetByLabel("Name", new() { Exact = true }).FillAsync("qa");
        await create.GetByLabel("Position in the lifecycle").FillAsync("2");
        await create.GetByLabel("Optional: a release may skip it").CheckAsync();
        await create.GetByLabel("Agent pool").FillAsync("qa-deployers");
        await create.GetByLabel("Deployers").FillAsync("role:analyst, user:bob");
        await create.GetByLabel("Required approvals").FillAsync("2");
        await create.GetByLabel("Approver role").FillAsync("analyst");
        await create.GetByLabel("Queue policy").SelectOptionAsync("newest-wins");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create environment" }).ClickAsync();
        // No agent serves pool qa-deployers: saved all the same, with the API's warning in the message.
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(
            @"^Environment qa created\. Warning: no agent of pool 'qa-deployers' is connected, .*--pool qa-deployers'\.$"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("shop environment qa");
        await Expect(page.Locator("#env-position")).ToHaveTextAsync("2 (optional: may be skipped)");
        await Expect(page.Locator("#env-pool")).ToHaveTextAsync("qa-deployers");
        await Expect(page.Locator("#env-deployers")).ToHaveTextAsync("role:analyst, user:bob");
        await Expect(page.Locator("#env-approvals")).ToHaveTextAsync("2 distinct by role analyst");
        await Expect(page.Locator("#env-queue")).ToHaveTextAsync("newest-wins");

        await page.Locator("#edit-settings summary").ClickAsync();
        var edit = page.Locator("#settings-form");
        await Expect(edit.GetByLabel("Deployers")).ToHaveValueAsync("role:analyst user:bob");
        await edit.GetByLabel("Optional: a release may skip it").UncheckAsync();
        await edit.GetByLabel("Required approvals").FillAsync("0");
        await edit.GetByLabel("Approver role").FillAsync("");
        await edit.GetByLabel("Auto-deploy").CheckAsync();
        await edit.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Settings of qa saved.");
        await Expect(page.Locator("#env-position")).ToHaveTextAsync("2");
        await Expect(page.Locator("#env-approvals")).ToHaveTextAsync("none needed");
        await Expect(page.Locator("#env-auto-deploy")).ToContainTextAsync("on");
        await Expect(page.Locator("#env-pool")).ToHaveTextAsync("qa-deployers");

        // A bad value is refused with the reason, and nothing changes.
        await page.Locator("#edit-settings summary").ClickAsync();
        await edit.GetByLabel("Deployers").FillAsync("bob");
        await edit.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("'bob' is not a deployer; write role:NAME or user:NAME");
        await Expect(page.Locator("#env-deployers")).ToHaveTextAsync("role:analyst, user:bob");
        using (var adminApi = TestApi.Admin(server))
        {
            var audit = (await adminApi.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=env.manage"))!
                .Where(a => a.Target == "project:shop env:qa").Select(a => a.Detail ?? "").ToList();
            Assert.Contains(audit, d => d.StartsWith("environment 'qa' created: position 2 (optional), pool qa-deployers, deployers [role:analyst, user:bob], 2 approvals by analyst"));
            Assert.Contains(audit, d => d.StartsWith("environment 'qa' changed: position 2, pool qa-deployers, deployers [role:analyst, user:bob], 0 approvals, auto-deploy on"));
        }
        await page.GotoAsync("/projects/shop/environments/production");
        await page.Locator("#add-freeze summary").ClickAsync();
        var freeze = page.Locator("#freeze-form");
        await freeze.GetByLabel("Name").FillAsync("release-party");
        await freeze.GetByLabel("Once: from one date and time to another").CheckAsync();
        var now = DateTime.UtcNow;
        await freeze.GetByLabel("From, UTC (once)").FillAsync(now.AddHours(-1).ToString("yyyy-MM-ddTHH:mm"));
        await freeze.GetByLabel("To, UTC (once)").FillAsync(now.AddHours(2).ToString("yyyy-MM-ddTHH:mm"));
        await freeze.GetByRole(AriaRole.Button, new() { Name = "Add freeze window" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Freeze window 'release-party' added to production.");
        await Expect(page.Locator("#freezes tr[data-name='release-party']")).ToHaveAttributeAsync("data-active", "true");

        await page.Locator("#set-variable summary").ClickAsync();
        var variable = page.Locator("#variable-form");
        await variable.GetByLabel("Name").FillAsync("DB_PASSWORD");
        await variable.GetByLabel("Value").FillAsync("s3cret-value");
        await variable.GetByLabel("Secret (write-only, masked in logs)").CheckAsync();
        await variable.GetByRole(AriaRole.Button, new() { Name = "Set variable" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Secret DB_PASSWORD of production set.");
        await Expect(page.Locator("#variables tr[data-name='DB_PASSWORD']")).ToHaveAttributeAsync("data-secret", "true");
        Assert.DoesNotContain("s3cret-value", await page.ContentAsync());

        // The admin is not among production's deployers (role:analyst): no promotion is offered to him there.
        await page.GotoAsync("/projects/shop/environments");
        var production = page.Locator(".env-cell[data-environment='production']");
        await Expect(production.Locator(".freeze-flag")).ToContainTextAsync("Frozen by 'release-party' until");
        await Expect(production.Locator("form.promote")).ToHaveCountAsync(0);

        // An analyst's promotion during the freeze is refused with the rule named (analysts hold no break-glass).
        await using var analyst = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(analyst.Page, "ann");
        await analyst.Page.GotoAsync("/projects/shop/environments");
        var annProduction = analyst.Page.Locator(".env-cell[data-environment='production']");
        await annProduction.GetByRole(AriaRole.Button, new() { Name = $"Promote {version} to production" }).ClickAsync();
        await Expect(analyst.Page.Locator(".flash.error")).ToContainTextAsync("freeze: 'production' is frozen by 'release-party'");

        // A developer holds deployment.start, but production's deployers rule leaves her out: no promotion to production,
        // the deploy form offers staging only, and the forms' posts forced anyway are refused naming the rule.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/projects/shop/environments");
        var danaProduction = developer.Page.Locator(".env-cell[data-environment='production']");
        await Expect(danaProduction.Locator("form.promote, form.rollback")).ToHaveCountAsync(0);
        await Expect(developer.Page.Locator("#deploy-form select[name='environment'] option")).ToHaveTextAsync(["staging"]);
        var forcedPromotion = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/promote",
            new Dictionary<string, string> { ["environment"] = "production", ["version"] = version });
        Assert.Contains("deployer: dana is not among those who may deploy to 'production'", WebUtility.HtmlDecode(forcedPromotion.Body));
        var forcedDeploy = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/deploy",
            new Dictionary<string, string> { ["environment"] = "production", ["version"] = version });
        Assert.Contains("deployer: dana is not among those who may deploy to 'production'", WebUtility.HtmlDecode(forcedDeploy.Body));

        // The viewer sees the dashboard, the freeze and the secret's name, but no form; forced posts are refused.
        await using var viewer = await BrowserSession.StartAsync(server.Url);
        var v = viewer.Page;
        await TestApi.SignInWithPasswordAsync(v, "victor");
        await v.GotoAsync("/projects/shop");
        await v.Locator("#environments").ClickAsync();
        await Expect(v.Locator(".env-cell[data-environment='staging'] .current .version")).ToHaveTextAsync(version);
        await Expect(v.Locator(".env-cell[data-environment='production'] .freeze-flag")).ToBeVisibleAsync();
        await Expect(v.Locator("main form")).ToHaveCountAsync(0);
        await v.GotoAsync("/projects/shop/environments/production");
        await Expect(v.Locator("#variables tr[data-name='DB_PASSWORD'] .secret")).ToHaveTextAsync("secret (hidden)");
        await Expect(v.Locator("main form")).ToHaveCountAsync(0);
        await v.GotoAsync("/projects/shop/deployments/1");
        await Expect(v.Locator("#deployment-environment")).ToHaveTextAsync("staging");
        await Expect(v.Locator("main form")).ToHaveCountAsync(0);

        var promote = await PageForms.PostAsync(v, "/projects/shop/promote", withToken: true,
            new Dictionary<string, string> { ["environment"] = "production", ["version"] = version });
        Assert.Equal(403, promote.Status);
        Assert.Contains("user:victor may not deployment.start on project 'shop'", promote.Body);
        var removeFreeze = await PageForms.PostAsync(v, "/projects/shop/environments/production/variables/DB_PASSWORD/delete", withToken: true);
        Assert.Equal(403, removeFreeze.Status);
        var createEnvironment = await PageForms.PostAsync(v, "/projects/shop/environments", withToken: true,
            new Dictionary<string, string> { ["name"] = "sneaky", ["pool"] = "build" });
        Assert.Equal(403, createEnvironment.Status);
        var changeSettings = await PageForms.PostAsync(v, "/projects/shop/environments/production/settings", withToken: true,
            new Dictionary<string, string> { ["pool"] = "build", ["requiredApprovals"] = "0" });
        Assert.Equal(403, changeSettings.Status);
        var approve = await PageForms.PostAsync(v, "/projects/shop/deployments/1/approve", withToken: true);
        Assert.Equal(403, approve.Status);

        using var api = TestApi.Admin(server);
        var deployments = await api.Http.GetFromJsonAsync<List<DeploymentDto>>("/api/v1/projects/shop/deployments");
        Assert.Single(deployments!); // only the automatic one to staging
        var environments = await api.Http.GetFromJsonAsync<List<EnvironmentDto>>("/api/v1/projects/shop/environments");
        Assert.Equal(["staging", "production", "qa"], environments!.Select(e => e.Name));
        Assert.Equal(1, environments!.Single(e => e.Name == "production").RequiredApprovals);
        Assert.Empty(admin.PageErrors);
        Assert.Empty(viewer.PageErrors);
        Assert.Empty(developer.PageErrors);
        Assert.Empty(analyst.PageErrors);
    }
}
