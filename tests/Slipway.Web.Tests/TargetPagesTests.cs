using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// The last mile's configuration on the environment page, in a real browser: an admin adds a target, changes it,
/// disables and enables it, sets and removes a load balancer, removes the target; a bad value is refused with the
/// reason; a developer sees none of these forms and her forced posts are refused.
/// </summary>
public sealed class TargetPagesTests
{
    [Fact]
    public async Task Admin_ManagesTargetsAndBalancers_OnTheEnvironmentPage_ADeveloperCannot()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using (var api = TestApi.Admin(server))
        {
            var created = await api.Http.PostAsJsonAsync("/api/v1/projects/shop/environments",
                new EnvironmentRequest("production", 0, false, "build", [], 0, null, false, null));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await api.CreateUserAsync("dana", null, "developer");
        }

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();
        await page.GotoAsync("/projects/shop/environments/production");

        // Add a target.
        await page.Locator("#add-target summary").ClickAsync();
        var add = page.Locator("#add-target form");
        await add.GetByLabel("Name").FillAsync("web-1");
        await add.GetByLabel("Host (as the deploy agent reaches it)").FillAsync("10.0.0.11");
        await add.GetByLabel("Roles (space or comma separated)").FillAsync("web, canary");
        await add.GetByLabel("Load-balancer server (BACKEND/SERVER, empty: none)").FillAsync("app/web-1");
        await add.GetByRole(AriaRole.Button, new() { Name = "Add target" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("Target web-1 added. No host key is pinned yet");
        var row = page.Locator("#targets tr[data-target='web-1']");
        await Expect(row).ToContainTextAsync("deploy@10.0.0.11:22");
        await Expect(row).ToContainTextAsync("web, canary");
        await Expect(row).ToContainTextAsync("app/web-1");
        await Expect(row).ToContainTextAsync("not pinned: connections are refused");

        // A bad value is refused with the reason; nothing changes.
        await row.Locator(".edit-target summary").ClickAsync();
        var edit = row.Locator(".edit-target form");
        await Expect(edit.GetByLabel("Roles (space or comma separated)")).ToHaveValueAsync("web canary");
        await edit.GetByLabel("Load-balancer server (BACKEND/SERVER, empty: none)").FillAsync("app web-1;reboot");
        await edit.GetByRole(AriaRole.Button, new() { Name = "Save target" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("invalid load-balancer server 'app web-1;reboot'");
        await Expect(row).ToContainTextAsync("app/web-1");

        // Change it into a node agent's target behind no balancer; then disable and enable it.
        await Expect(edit).ToBeVisibleAsync(); // a refused form comes back open, with what was typed
        await edit.GetByLabel("Load-balancer server (BACKEND/SERVER, empty: none)").FillAsync("");
        await edit.GetByLabel("Node agent (empty: reached by SSH)").FillAsync("web-1-agent");
        await edit.GetByRole(AriaRole.Button, new() { Name = "Save target" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Target web-1 changed.");
        await Expect(row).ToContainTextAsync("via node agent web-1-agent");
        await Expect(row).ToContainTextAsync("no SSH");
        await row.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Target web-1 disabled: no rollout touches it.");
        await Expect(row).ToContainTextAsync("(disabled)");
        await row.GetByRole(AriaRole.Button, new() { Name = "Enable" }).ClickAsync();
        await Expect(row).Not.ToContainTextAsync("(disabled)");

        // A load balancer: a script one, then removed.
        await page.Locator("#set-balancer summary").ClickAsync();
        var lb = page.Locator("#balancer-form");
        await lb.GetByLabel("Name").FillAsync("lb1");
        await lb.GetByLabel("Kind").SelectOptionAsync("script");
        await lb.GetByLabel("Drain command (script)").FillAsync("/usr/local/bin/lb-drain");
        await lb.GetByLabel("Enable command (script)").FillAsync("/usr/local/bin/lb-enable");
        await lb.GetByLabel("Status command (script)").FillAsync("/usr/local/bin/lb-status");
        await lb.GetByLabel("Min healthy").FillAsync("2");
        await lb.GetByRole(AriaRole.Button, new() { Name = "Save load balancer" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Load balancer lb1 (script) saved.");
        await Expect(page.Locator("#balancers")).ToContainTextAsync("lb1 (script commands, min_healthy 2, drain timeout 30s)");

        // A developer sees the targets but no form, and her forced posts are refused.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/projects/shop/environments/production");
        await Expect(developer.Page.Locator("#targets tr[data-target='web-1']")).ToBeVisibleAsync();
        await Expect(developer.Page.Locator("#add-target, #set-balancer, .target-actions, [data-remove-balancer]")).ToHaveCountAsync(0);
        var forced = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/environments/production/targets/web-1/remove");
        Assert.Contains("may not env.manage", WebUtility.HtmlDecode(forced.Body));

        await page.Locator("[data-remove-balancer='lb1']").GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Load balancer lb1 removed.");
        await row.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Target web-1 removed.");
        await Expect(page.Locator("#targets tr[data-target='web-1']")).ToHaveCountAsync(0);

        using (var api = TestApi.Admin(server))
        {
            var audit = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=env.manage"))!.Select(a => a.Detail ?? "").ToList();
            Assert.Contains(audit, d => d.StartsWith("target 'web-1' of 'production' added: deploy@10.0.0.11:22, roles [web, canary], behind app/web-1"));
            Assert.Contains(audit, d => d.StartsWith("target 'web-1' of 'production' changed: 10.0.0.11 via node agent web-1-agent"));
            Assert.Contains(audit, d => d == "target 'web-1' of 'production' removed");
        }
        Assert.Empty(admin.PageErrors);
        Assert.Empty(developer.PageErrors);
    }
}
