using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Live checks and alert webhooks on the environment page, in a real browser against a real server that really probes an
/// application of the test's on 127.0.0.1 and really POSTs the alert to a receiver of the test's: an admin adds a check
/// and a webhook, a bad value is refused with the reason, the failing check and the delivered alert show on the page; a
/// developer sees addresses redacted and no form, and her forced posts are refused; the admin removes both (audited).
/// </summary>
public sealed class CheckPagesTests
{
    [Fact]
    public async Task Admin_AddsACheckAndAWebhook_SeesTheFailureAndTheDeliveredAlert_ADeveloperSeesThemRedacted()
    {
        using var app = new LoopbackHttp { Status = 503 };
        using var receiver = new LoopbackHttp();
        await using var server = await SlipwayTestServer.StartAsync(o =>
        {
            o.LiveCheckInterval = TimeSpan.FromMilliseconds(200);
            o.AlertRetryDelay = TimeSpan.FromMilliseconds(100);
        });
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using (var api = TestApi.Admin(server))
        {
            var created = await api.Http.PostAsJsonAsync("/api/v1/projects/shop/environments",
                new EnvironmentRequest("production", 0, false, "build", [], 0, null, false, null));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await api.CreateUserAsync("dana", null, "developer");
            // A viewer of production only: the webhook list is the project's, which her grant does not cover.
            await api.CreateUserAsync("pia", null, null);
            var grant = await api.Http.PostAsJsonAsync("/api/v1/users/pia/grants", new GrantRequest("viewer", "shop", "production"));
            Assert.True(grant.IsSuccessStatusCode, await grant.Content.ReadAsStringAsync());
        }
        var healthUrl = app.Url.Replace("/hook/secret-path-token", "/health?token=app-secret");
        var appAddress = app.Url[..app.Url.IndexOf("/hook", StringComparison.Ordinal)];
        var receiverAddress = receiver.Url[..receiver.Url.IndexOf("/hook", StringComparison.Ordinal)];

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();
        await page.GotoAsync("/projects/shop/environments/production");
        await Expect(page.Locator("#no-checks")).ToHaveTextAsync("No live checks.");
        await Expect(page.Locator("#no-webhooks")).ToContainTextAsync("No alert webhook receives production's alerts");

        // A webhook first (so the check's first failure has somewhere to go), then a bad check, then a good one.
        await page.Locator("#add-webhook summary").ClickAsync();
        var hook = page.Locator("#webhook-form");
        await hook.GetByLabel("Webhook URL").FillAsync(receiver.Url);
        await hook.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync($"(json, {receiverAddress}/…) added for production.");
        await Expect(page.Locator("#webhooks")).Not.ToContainTextAsync("secret-path-token");

        await page.Locator("#add-check summary").ClickAsync();
        var form = page.Locator("#check-form");
        await form.GetByLabel("URL (http)").FillAsync(healthUrl);
        await form.GetByLabel("Every", new() { Exact = true }).FillAsync("soon");
        await form.GetByRole(AriaRole.Button, new() { Name = "Add check" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("'every': invalid duration 'soon'");
        await Expect(page.Locator("#no-checks")).ToBeVisibleAsync();
        await Expect(form).ToBeVisibleAsync(); // a refused form comes back open, with what was typed
        await form.GetByLabel("URL (http)").FillAsync(healthUrl);
        await form.GetByLabel("Body contains (http)").FillAsync("ok");
        await form.GetByLabel("Every", new() { Exact = true }).FillAsync("1s");
        await form.GetByRole(AriaRole.Button, new() { Name = "Add check" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("added to production: it runs every 1s.");

        // The server probes the app (503), and the alert reaches the receiver: both show on the page.
        var check = page.Locator("#checks tr[data-check]");
        await UntilAsync(page, async () => await check.GetAttributeAsync("data-latest") == "failed"
                                           && await page.Locator("#webhooks tr[data-webhook]").GetAttributeAsync("data-delivery") == "delivered",
            "the check to fail and its alert to be delivered");
        await Expect(page.Locator("#checks-health")).ToHaveAttributeAsync("data-health", "failing");
        await Expect(check).ToContainTextAsync($"GET {healthUrl} expects 200 and \"ok\", timeout 10s");
        await Expect(check).ToContainTextAsync("status 503, expected 200");
        await Expect(page.Locator("#webhooks tr[data-webhook]")).ToContainTextAsync("check.failed");
        await Expect(page.Locator("#webhooks tr[data-webhook]")).ToContainTextAsync("1 attempt");
        Assert.Contains(receiver.Bodies, b => b.Contains("\"event\":\"check.failed\"") && b.Contains("\"environment\":\"production\""));
        var history = page.Locator("#checks tr.history-row .check-history");
        await UntilAsync(page, async () => await history.CountAsync() == 1, "a second result, for the history");
        await history.Locator("summary").ClickAsync();
        await Expect(history.Locator("tbody tr").First).ToContainTextAsync("status 503, expected 200");

        // The project's environments dashboard says production is failing and leads to these checks.
        await page.GotoAsync("/projects/shop/environments");
        var health = page.Locator(".env-cell[data-environment='production'] .health");
        await Expect(health).ToHaveAttributeAsync("data-health", "failing");
        await health.GetByRole(AriaRole.Link, new() { Name = "Live checks" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/projects/shop/environments/production#live-checks-title$"));
        await Expect(check).ToBeVisibleAsync();

        // A developer reads both, with the addresses redacted (the check's token, the webhook's path), and manages neither.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/projects/shop/environments/production");
        await Expect(developer.Page.Locator("#checks tr[data-check]")).ToContainTextAsync($"GET {appAddress}/…");
        await Expect(developer.Page.Locator("#webhooks tr[data-webhook]")).ToContainTextAsync($"{receiverAddress}/…");
        await Expect(developer.Page.Locator("#checks")).Not.ToContainTextAsync("secret");
        await Expect(developer.Page.Locator("#webhooks")).Not.ToContainTextAsync("secret");
        await Expect(developer.Page.Locator("#add-check, #add-webhook, #checks form, #webhooks form")).ToHaveCountAsync(0);
        var checkId = await check.GetAttributeAsync("data-check");
        var forced = await PageForms.PostAndFollowAsync(developer.Page, $"/projects/shop/environments/production/checks/{checkId}/remove");
        Assert.Contains("may not check.manage", WebUtility.HtmlDecode(forced.Body));
        forced = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/environments/production/alerts",
            new Dictionary<string, string> { ["url"] = "http://127.0.0.1:1/x" });
        Assert.Contains("may not check.manage", WebUtility.HtmlDecode(forced.Body));
        forced = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/environments/production/checks",
            new Dictionary<string, string> { ["url"] = "http://127.0.0.1:1/x" });
        Assert.Contains("may not check.manage", WebUtility.HtmlDecode(forced.Body));
        var webhookId = await page.Locator("#webhooks tr[data-webhook]").GetAttributeAsync("data-webhook");
        forced = await PageForms.PostAndFollowAsync(developer.Page, $"/projects/shop/environments/production/alerts/{webhookId}/remove");
        Assert.Contains("may not check.manage", WebUtility.HtmlDecode(forced.Body));

        // A viewer of production alone sees its checks but not the project's webhooks (the API does not list them to her either).
        await using var viewer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(viewer.Page, "pia");
        await viewer.Page.GotoAsync("/projects/shop/environments/production");
        await Expect(viewer.Page.Locator("#checks tr[data-check]")).ToContainTextAsync($"GET {appAddress}/…");
        await Expect(viewer.Page.Locator("#alert-webhooks-title, #webhooks, #no-webhooks")).ToHaveCountAsync(0);
        Assert.Empty(viewer.PageErrors);

        // The admin removes both (the page still shows one check and one webhook: none of the forced posts did anything).
        await check.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Check {checkId} removed from production.");
        await Expect(page.Locator("#no-checks")).ToBeVisibleAsync();
        await Expect(page.Locator("#webhooks tr[data-webhook]")).ToHaveCountAsync(1);
        await page.Locator("#webhooks tr[data-webhook]").GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Alert webhook {webhookId} removed.");
        await Expect(page.Locator("#no-webhooks")).ToBeVisibleAsync();

        using (var api = TestApi.Admin(server))
        {
            var audit = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=check.manage"))!.Select(a => a.Detail ?? "").ToList();
            Assert.Contains(audit, d => d.StartsWith($"check {checkId} added to 'production': GET {appAddress}/… expects 200 and body text"));
            Assert.Contains(audit, d => d.StartsWith($"check {checkId} removed from 'production'"));
            Assert.Contains(audit, d => d.Contains("alert webhook") && d.Contains("added (json") && d.Contains("environment 'production' only"));
            Assert.DoesNotContain(audit, d => d.Contains("secret"));
        }
        Assert.Empty(admin.PageErrors);
        Assert.Empty(developer.PageErrors);
    }

    /// <summary>Reloads <paramref name="page"/> until <paramref name="done"/> (the page shows what the server did in the background).</summary>
    private static Task UntilAsync(IPage page, Func<Task<bool>> done, string what) =>
        Eventually.ValueAsync(async () =>
        {
            await page.ReloadAsync();
            return await done() ? what : null;
        }, TimeSpan.FromSeconds(30), what);
}
