using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Quality gates in the browser: the release page's checklist per environment (with what was measured and the metric's
/// trend), the sign-off form for analysts only, and the dashboard saying what the next release still needs; gates added
/// and removed on the environment page by holders of gate.manage on that environment only.
/// </summary>
public sealed class GatePagesTests
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
          verify: 'echo "{\"metrics\": {\"http_req_duration\": {\"p95\": 150, \"unit\": \"ms\"}, \"requests\": {\"count\": 400}}}" > perf.json'
          metrics: perf.json
        """;

    [Fact]
    public async Task ReleasePage_ShowsTheChecklist_AndTheSignOffFormRecordsAVerdictThatPassesTheGate()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(Pipeline);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 1, false, "build", ["role:analyst"], 0, null, false, null));
        await server.Client.AddGateAsync("shop", "production", new GateRequest("verify", "staging"));
        await server.Client.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration p95 < 300 ms"));
        await server.Client.AddGateAsync("shop", "production", new GateRequest("signoff", "staging", SignOffKind: "uat", Role: "analyst"));
        using (var api = TestApi.Admin(server))
        {
            await api.CreateUserAsync("ann", null, "analyst");
            await api.CreateUserAsync("dana", null, "developer");
        }
        var first = await TestRepos.FirstRunAsync(server, "shop");
        Assert.Equal("succeeded", (await server.WaitForRunAsync(first.Id)).Status);
        var version = (await TestRepos.ReleaseOfAsync(server, "shop", first.Id)).Version;
        await Eventually.ValueAsync(async () => (await server.Client.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(d => d.State == "succeeded"),
            TimeSpan.FromSeconds(60), "the staging deployment");

        await using var ann = await BrowserSession.StartAsync(server.Url);
        var page = ann.Page;
        await TestApi.SignInWithPasswordAsync(page, "ann");
        // The environment's page lists its gates (an analyst reads them; staging has none).
        await page.GotoAsync("/projects/shop/environments/production");
        await Expect(page.Locator("#gates li")).ToHaveCountAsync(3);
        await Expect(page.Locator("#gates li[data-kind='signoff']")).ToContainTextAsync("uat sign-off by analyst on staging");
        await page.GotoAsync("/projects/shop/environments/staging");
        await Expect(page.Locator("#no-gates")).ToBeVisibleAsync();

        await page.GotoAsync($"/projects/shop/releases/{version}");
        var production = page.Locator(".gate-checklist[data-environment='production']");
        await Expect(production).ToHaveAttributeAsync("data-overall", "failed");
        await Expect(production.Locator("h3")).ToHaveTextAsync("Not ready for production");
        await Expect(production.Locator("li.gate")).ToHaveCountAsync(3);
        await Expect(production.Locator("li.gate").Nth(0)).ToHaveAttributeAsync("data-outcome", "passed");
        var metric = production.Locator("li.gate").Nth(1);
        await Expect(metric).ToHaveAttributeAsync("data-outcome", "passed");
        await Expect(metric.Locator(".detail")).ToContainTextAsync("150 ms < 300 ms");
        await Expect(metric.Locator(".trend svg")).ToHaveCountAsync(1);
        await Expect(metric.Locator(".trend svg")).ToHaveAttributeAsync("aria-label", $"1 release, oldest first: {version} 150 ms; limit < 300 ms");
        await Expect(metric.Locator(".trend svg circle.current title")).ToHaveTextAsync($"{version}: 150 ms");
        await Expect(production.Locator("li.gate").Nth(2)).ToHaveAttributeAsync("data-outcome", "failed");
        await Expect(production.Locator("li.gate").Nth(2).Locator(".detail")).ToContainTextAsync("pending");
        await Expect(page.Locator("#release-metrics tr[data-where='staging'][data-metric='http_req_duration'][data-stat='p95'] .value")).ToHaveTextAsync("150 ms");

        // The dashboard says what the release still needs for production, and production's health from its live check.
        await server.Client.AddCheckAsync("shop", "production", new CheckRequest(server.Url.TrimEnd('/') + "/healthz", Every: "1s", Watch: "0s"));
        await Eventually.ValueAsync(async () => (await server.Client.GetEnvironmentHealthAsync("shop", "production")) is { Status: "healthy" } h ? h : null,
            TimeSpan.FromSeconds(30), "production's live check");
        await page.GotoAsync("/projects/shop/environments");
        await Expect(page.Locator(".env-cell[data-environment='production'] .health")).ToHaveAttributeAsync("data-health", "healthy");
        await Expect(page.Locator(".env-cell[data-environment='staging'] .health")).ToHaveCountAsync(0);
        var needs = page.Locator(".env-cell[data-environment='production'] .gate-needs");
        await Expect(needs).ToHaveAttributeAsync("data-release", version);
        await Expect(needs).ToHaveAttributeAsync("data-overall", "failed");
        await Expect(needs.Locator("li.gate-failed")).ToContainTextAsync("uat sign-off by analyst on staging");

        // The analyst signs it off after the showcase; the gate passes.
        await page.GotoAsync($"/projects/shop/releases/{version}");
        var form = page.Locator("#signoff-form");
        // A rejection without notes is refused: the verdict comes back as chosen, and the page says the file must be chosen
        // again (a browser cannot keep it).
        await form.Locator("select[name='environment']").SelectOptionAsync("staging");
        await form.GetByLabel("Reject (blocks its promotion)").CheckAsync();
        await form.Locator("input[name='attachments']").SetInputFilesAsync(new FilePayload { Name = "note.txt", MimeType = "text/plain", Buffer = [65, 66] });
        await form.GetByRole(AriaRole.Button, new() { Name = "Record sign-off" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("a rejection needs notes");
        await Expect(form.GetByLabel("Reject (blocks its promotion)")).ToBeCheckedAsync();
        await Expect(form.Locator(".files-again")).ToHaveTextAsync("Choose the files again: a browser cannot keep them after a refusal.");
        await form.GetByLabel("Accept", new() { Exact = true }).CheckAsync();
        await form.Locator("select[name='environment']").SelectOptionAsync("staging");
        await form.Locator("select[name='kind']").SelectOptionAsync("uat");
        await form.Locator("textarea[name='notes']").FillAsync("Showcase with the customer: the basket shows prices");
        await form.Locator("input[name='attachments']").SetInputFilesAsync(new FilePayload
        {
            Name = "basket.png", MimeType = "image/png", Buffer = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 7, 7, 7],
        });
        await form.GetByRole(AriaRole.Button, new() { Name = "Record sign-off" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Your uat sign-off of {version} on staging is recorded: accepted with 1 attachment.");
        await Expect(page.Locator("#release-signoffs .attachments a")).ToHaveTextAsync("basket.png");
        await Expect(page.Locator("#release-signoffs .attachments a")).ToHaveAttributeAsync("data-type", "image/png");
        await Expect(production).ToHaveAttributeAsync("data-overall", "passed");
        await Expect(page.Locator("#release-signoffs tr[data-kind='uat'][data-verdict='accept']")).ToContainTextAsync("Showcase with the customer");
        Assert.Equal("passed", (await server.Client.GetGateChecklistAsync("shop", version, "production")).Overall);
        Assert.Empty(ann.PageErrors);

        // A developer sees the checklist but is offered no sign-off form.
        await using var dana = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(dana.Page, "dana");
        await dana.Page.GotoAsync($"/projects/shop/releases/{version}");
        await Expect(dana.Page.Locator(".gate-checklist[data-environment='production']")).ToHaveAttributeAsync("data-overall", "passed");
        await Expect(dana.Page.Locator("#signoff-form")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task PromoteAndDeploy_AreShownButNotPressable_WhileAGateFails_AndComeBackWhenNothingFails()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline(Pipeline);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 1, false, "build", [], 0, null, false, null));
        // Staging measures 150 ms at p95: this gate fails.
        var strict = await server.Client.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration p95 < 100 ms"));
        var first = await TestRepos.FirstRunAsync(server, "shop");
        Assert.Equal("succeeded", (await server.WaitForRunAsync(first.Id)).Status);
        var version = (await TestRepos.ReleaseOfAsync(server, "shop", first.Id)).Version;
        await Eventually.ValueAsync(async () => (await server.Client.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(d => d.State == "succeeded"),
            TimeSpan.FromSeconds(60), "the staging deployment");

        await using var admin = await BrowserSession.StartAsync(server.Url);
        await admin.SignInAsync();
        var page = admin.Page;
        await page.GotoAsync("/projects/shop/environments");
        var promote = page.Locator(".env-cell[data-environment='production'] form.promote");
        var promoteButton = promote.GetByRole(AriaRole.Button, new() { Name = $"Promote {version} to production" });
        await Expect(page.Locator(".env-cell[data-environment='production'] .gate-needs li.gate-failed")).ToContainTextAsync("150 ms");
        await Expect(promoteButton).ToBeDisabledAsync();
        await Expect(promote.Locator(".gates-refuse")).ToHaveTextAsync("not until every gate above passes");
        await page.GotoAsync($"/projects/shop/releases/{version}");
        var promoteHere = page.Locator("#release-environments tr[data-environment='production'] form.promote");
        await Expect(promoteHere.GetByRole(AriaRole.Button, new() { Name = "Promote to production" })).ToBeDisabledAsync();
        await Expect(promoteHere.Locator(".gates-refuse")).ToHaveTextAsync("not until the gates of production pass (below)");
        await Expect(page.Locator("#release-gates-refuse")).ToHaveTextAsync("Not offered for deployment until their gates pass: production.");
        await Expect(page.Locator("#release-deploy select[name='environment'] option[value='production']")).ToHaveCountAsync(0);
        // What the page holds back, the server refuses too.
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => server.Client.PromoteAsync("shop", "production"));
        Assert.Contains("gates not met", refused.Message);

        // Without the failing gate, a rejection standing against the release holds it back too, even where no gate asks
        // (the dashboard says so); a later acceptance of the same kind lifts it, and the same buttons work again.
        await server.Client.RemoveGateAsync("shop", "production", strict.Id);
        await server.Client.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", false, "the basket stays empty"));
        await page.GotoAsync("/projects/shop/environments");
        await Expect(page.Locator(".env-cell[data-environment='production'] .gate-rejection")).ToContainTextAsync("uat sign-off on 'staging' rejected by admin: the basket stays empty");
        await Expect(promoteButton).ToBeDisabledAsync();
        await server.Client.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", true, "fixed"));
        await page.GotoAsync("/projects/shop/environments");
        await Expect(promoteButton).ToBeEnabledAsync();
        await Expect(promote.Locator(".gates-refuse")).ToHaveCountAsync(0);
        await page.GotoAsync($"/projects/shop/releases/{version}");
        await Expect(promoteHere.GetByRole(AriaRole.Button, new() { Name = "Promote to production" })).ToBeEnabledAsync();
        await Expect(page.Locator("#release-gates-refuse")).ToHaveCountAsync(0);
        await promoteHere.GetByRole(AriaRole.Button, new() { Name = "Promote to production" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("production");

        // Once it is there, its checklist says so, rather than "ready" or "not ready" for a place it already is.
        await server.Client.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration p95 < 100 ms"));
        await Eventually.ValueAsync(async () => (await server.Client.ListDeploymentsAsync("shop", "production")).FirstOrDefault(d => d.State == "succeeded"),
            TimeSpan.FromSeconds(60), "the production deployment");
        await page.GotoAsync($"/projects/shop/releases/{version}");
        await Expect(page.Locator(".gate-checklist[data-environment='production'] h3")).ToHaveTextAsync("On production now, but today's gates would not let it in");
        var checklist = await server.Client.GetGateChecklistAsync("shop", version, "production");
        Assert.Equal(("failed", true), (checklist.Overall, checklist.CurrentThere));
        Assert.Empty(admin.PageErrors);
    }

    [Fact]
    public async Task EnvironmentPage_AddsAndRemovesGates_ForHoldersOfGateManageThere_TheApiAgrees()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline(Pipeline);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 1, false, "build", [], 0, null, false, null));
        using (var api = TestApi.Admin(server))
        {
            await api.CreateUserAsync("ann", null, "analyst");
            // A gatekeeper of staging only: her grant does not reach production's gates.
            var role = await api.Http.PostAsJsonAsync("/api/v1/roles", new CreateRoleRequest("gatekeeper", null, ["gate.manage"]));
            Assert.Equal(HttpStatusCode.Created, role.StatusCode);
            await api.CreateUserAsync("gil", null, "viewer");
            var grant = await api.Http.PostAsJsonAsync("/api/v1/users/gil/grants", new GrantRequest("gatekeeper", "shop", "staging"));
            Assert.True(grant.IsSuccessStatusCode, await grant.Content.ReadAsStringAsync());
        }

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();
        await page.GotoAsync("/projects/shop/environments/production");
        await Expect(page.Locator("#no-gates")).ToBeVisibleAsync();
        var form = page.Locator("#gate-form");
        async Task AddAsync(string kind, string measuredOn, string rule = "", string signOffKind = "", string role = "")
        {
            if (!await form.IsVisibleAsync()) await page.Locator("#add-gate summary").ClickAsync();
            await form.GetByLabel("Gate kind").SelectOptionAsync(kind);
            await form.GetByLabel("Measured on").SelectOptionAsync(measuredOn);
            await form.GetByLabel("Metric rule (metric)").FillAsync(rule);
            await form.GetByLabel("Sign-off kind (sign-off)").FillAsync(signOffKind);
            await form.GetByLabel("Signed by a holder of the role (sign-off)").FillAsync(role);
            await form.GetByRole(AriaRole.Button, new() { Name = "Add gate" }).ClickAsync();
        }
        // Where production's gates usually look is offered first: the environment before it.
        await page.Locator("#add-gate summary").ClickAsync();
        await Expect(form.GetByLabel("Measured on")).ToHaveValueAsync("staging");

        await AddAsync("verify", "staging");
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Gate added to production: verify passed on staging.");
        await AddAsync("metric", "staging", rule: "http_req_duration p95 fast");
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("rule 'http_req_duration p95 fast' has no comparison");
        await AddAsync("metric", "production", rule: "http_req_duration p95 < 300 ms");
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("a gate of 'production' cannot require evidence from 'production' itself");
        await AddAsync("metric", "staging", rule: "http_req_duration p95 < 300 ms");
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Gate added to production: http_req_duration p95 < 300 ms on staging.");
        await AddAsync("signoff", "staging", signOffKind: "uat", role: "analyst");
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Gate added to production: uat sign-off by analyst on staging.");
        await Expect(page.Locator("#gates li")).ToHaveCountAsync(3);

        // The API answers the gates the form made, as if they had been added through it.
        var gates = await server.Client.ListGatesAsync("shop", "production");
        Assert.Equal(["verify", "metric", "signoff"], gates.Select(g => g.Kind));
        Assert.Equal(["staging", "staging", "staging"], gates.Select(g => g.MeasuredOn));
        Assert.Equal("http_req_duration p95 < 300 ms", gates[1].Rule);
        Assert.Equal(("uat", "analyst"), (gates[2].SignOffKind, gates[2].Role));
        Assert.All(gates, g => Assert.Equal("admin", g.CreatedBy));

        // Removing asks first; saying no keeps the gate.
        var metricGate = page.Locator($"#gates li[data-gate-id='{gates[1].Id}']");
        await page.EvaluateAsync("() => { window.confirm = () => false; }");
        await metricGate.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.Locator("#gates li")).ToHaveCountAsync(3);
        Assert.Equal(3, (await server.Client.ListGatesAsync("shop", "production")).Count);
        await page.ReloadAsync();
        await metricGate.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Gate removed from production: http_req_duration p95 < 300 ms on staging.");
        Assert.Equal("Remove the gate 'http_req_duration p95 < 300 ms on staging'? Releases no longer need it to be deployed to production.",
            Assert.Single(admin.Confirms));
        await Expect(page.Locator("#gates li")).ToHaveCountAsync(2);
        Assert.Equal(["verify", "signoff"], (await server.Client.ListGatesAsync("shop", "production")).Select(g => g.Kind));

        // An analyst reads the gates, gets no form and no Remove button, and her forced posts change nothing.
        await using var ann = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(ann.Page, "ann");
        await ann.Page.GotoAsync("/projects/shop/environments/production");
        await Expect(ann.Page.Locator("#gates li")).ToHaveCountAsync(2);
        await Expect(ann.Page.Locator("#gate-form, #add-gate, #gates form")).ToHaveCountAsync(0);
        var forcedAdd = await PageForms.PostAndFollowAsync(ann.Page, "/projects/shop/environments/production/gates",
            new Dictionary<string, string> { ["kind"] = "verify", ["measuredOn"] = "staging" });
        Assert.Contains("ann may not gate.manage", WebUtility.HtmlDecode(forcedAdd.Body));
        var forcedRemove = await PageForms.PostAndFollowAsync(ann.Page, $"/projects/shop/environments/production/gates/{gates[0].Id}/remove");
        Assert.Contains("ann may not gate.manage", WebUtility.HtmlDecode(forcedRemove.Body));
        Assert.Equal(["verify", "signoff"], (await server.Client.ListGatesAsync("shop", "production")).Select(g => g.Kind));

        // The gatekeeper of staging manages staging's gates there, and only there.
        await using var gil = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(gil.Page, "gil");
        await gil.Page.GotoAsync("/projects/shop/environments/production");
        await Expect(gil.Page.Locator("#gates li")).ToHaveCountAsync(2);
        await Expect(gil.Page.Locator("#gate-form, #gates form")).ToHaveCountAsync(0);
        var forcedByGil = await PageForms.PostAndFollowAsync(gil.Page, $"/projects/shop/environments/production/gates/{gates[0].Id}/remove");
        Assert.Contains("gil may not gate.manage", WebUtility.HtmlDecode(forcedByGil.Body));
        await gil.Page.GotoAsync("/projects/shop/environments/staging");
        await gil.Page.Locator("#add-gate summary").ClickAsync();
        var gilForm = gil.Page.Locator("#gate-form");
        await Expect(gilForm.GetByLabel("Measured on")).ToHaveValueAsync(""); // nothing comes before staging
        await gilForm.GetByLabel("Gate kind").SelectOptionAsync("signoff");
        await gilForm.GetByLabel("Sign-off kind (sign-off)").FillAsync("exploratory");
        await gilForm.GetByLabel("Signed by a holder of the role (sign-off)").FillAsync("analyst");
        await gilForm.GetByRole(AriaRole.Button, new() { Name = "Add gate" }).ClickAsync();
        await Expect(gil.Page.Locator(".flash.ok")).ToHaveTextAsync("Gate added to staging: exploratory sign-off by analyst.");
        var staging = Assert.Single(await server.Client.ListGatesAsync("shop", "staging"));
        Assert.Equal(("signoff", (string?)null, "gil"), (staging.Kind, staging.MeasuredOn, staging.CreatedBy));

        using (var api = TestApi.Admin(server))
        {
            var audit = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=gate.manage&limit=100"))!.ToList();
            Assert.Contains(audit, a => a.Actor == "admin" && a.Outcome == "succeeded" && a.Detail!.EndsWith("removed from 'production': http_req_duration p95 < 300 ms on staging"));
            Assert.Contains(audit, a => a.Actor == "gil" && a.Outcome == "succeeded" && a.Detail!.EndsWith("added to 'staging': exploratory sign-off by analyst"));
            Assert.Contains(audit, a => a.Actor == "ann" && a.Outcome == "denied");
        }
        Assert.Empty(admin.PageErrors);
        Assert.Empty(ann.PageErrors);
        Assert.Empty(gil.PageErrors);
    }
}
