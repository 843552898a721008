using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>Sign-in and sign-out, and the users, audit and tokens pages, through a real browser against a real server.</summary>
public sealed class AccountPagesTests
{
    [Fact]
    public async Task PasswordSignIn_ShowsName_AndSignOutEndsTheSession()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("alice", "Alice Liddell", "developer");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;

        await TestApi.SignInWithPasswordAsync(page, "alice");
        Assert.Equal("/", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Projects");
        await Expect(page.Locator("header .user")).ToHaveTextAsync("Alice Liddell (alice)");
        // A developer's nav: no user, role or audit pages.
        var nav = page.Locator("header nav");
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "My tokens" })).ToBeVisibleAsync();
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Agents" })).ToBeVisibleAsync();
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToHaveCountAsync(0);
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Audit" })).ToHaveCountAsync(0);

        var session = Assert.Single(await browser.Context.CookiesAsync(), c => c.Name == "slipway_session");
        Assert.True(session.HttpOnly);
        Assert.Equal(HttpStatusCode.OK, await MeWithCookieAsync(server.Url, session.Value));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/login");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();

        // The old session id is dead on the server, not merely forgotten by the browser.
        Assert.Equal(HttpStatusCode.Unauthorized, await MeWithCookieAsync(server.Url, session.Value));
        await page.GotoAsync("/");
        Assert.Equal("/login", new Uri(page.Url).AbsolutePath);
        Assert.Empty(browser.PageErrors);
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors));
    }

    [Fact]
    public async Task UsersPage_AdminCreatesUserAndGrantsRole()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Users");
        var create = page.Locator("#create-user");
        await create.GetByLabel("Username").FillAsync("bob");
        await create.GetByLabel("Display name").FillAsync("Bob Builder");
        await create.GetByLabel("Email").FillAsync("bob@example.test");
        await create.GetByLabel("Password").FillAsync(TestApi.Password);
        await create.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("User 'bob' created.");
        Assert.Equal("/users", new Uri(page.Url).AbsolutePath); // redirected after the POST

        var row = page.Locator("tr[data-user='bob']");
        await Expect(row.Locator(".display-name")).ToHaveTextAsync("Bob Builder");
        await Expect(row.Locator("li.grant")).ToHaveCountAsync(0);
        await row.Locator("summary", new() { HasText = "Grant a role" }).ClickAsync();
        await row.GetByLabel("Role").SelectOptionAsync("developer");
        await row.GetByRole(AriaRole.Button, new() { Name = "Grant", Exact = true }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("Granted 'developer'");
        await Expect(page.Locator("tr[data-user='bob'] li.grant .grant-text")).ToHaveTextAsync("developer (all projects)");

        var bob = await api.FindUserAsync("bob");
        Assert.NotNull(bob);
        Assert.Equal("bob@example.test", bob.Email);
        Assert.Equal("developer", Assert.Single(bob.Grants).Role);

        // A refusal by a rule is shown on the page: nobody changes their own grants.
        var admin = page.Locator("tr[data-user='admin']");
        await admin.Locator("summary", new() { HasText = "Grant a role" }).ClickAsync();
        await admin.GetByLabel("Role").SelectOptionAsync("viewer");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Grant", Exact = true }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("no-self-grant");

        // So is a bad input, and the last admin cannot be disabled.
        await page.Locator("tr[data-user='admin']").GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("last enabled admin");

        // Revoking the grant through its button.
        await page.Locator("tr[data-user='bob'] li.grant").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("Revoked 'developer'");
        await Expect(page.Locator("tr[data-user='bob'] li.grant")).ToHaveCountAsync(0);
        Assert.Empty((await api.FindUserAsync("bob"))!.Grants);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = "/tmp/slipway-users-page.png", FullPage = true });
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors));
    }

    [Fact]
    public async Task RolesPage_CreatesAndDeletesCustomRole()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Roles" }).ClickAsync();
        await Expect(page.Locator("tr[data-role='admin'] .role-name")).ToContainTextAsync("built-in");
        await Expect(page.Locator("tr[data-role='admin']").GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToHaveCountAsync(0);

        var form = page.Locator("#create-role");
        await form.GetByLabel("Name").FillAsync("releaser");
        await form.GetByLabel("Description").FillAsync("starts and retries runs");
        await form.Locator("input[name='actions'][value='run.start']").CheckAsync();
        await form.Locator("input[name='actions'][value='run.retry']").CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Create role" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Role 'releaser' created.");
        await Expect(page.Locator("tr[data-role='releaser'] ul.actions li")).ToHaveTextAsync(["run.retry", "run.start"]);

        // A rule refusal from the shared code is shown: no actions at all.
        await form.GetByLabel("Name").FillAsync("empty-role");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create role" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("a role needs at least one action");

        // The custom role is offered on the users page.
        await page.GotoAsync("/users");
        Assert.Contains("releaser", await page.Locator("tr[data-user='admin'] select[name='role'] option").AllTextContentsAsync());

        await page.GotoAsync("/roles");
        await page.Locator("tr[data-role='releaser']").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Role 'releaser' deleted.");
        await Expect(page.Locator("tr[data-role='releaser']")).ToHaveCountAsync(0);
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors));
    }

    [Fact]
    public async Task AuditPage_ListsFiltersAndVerifies()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("carol", "Carol", "analyst");
        await api.CreateUserAsync("dave", null, "viewer");
        using (var asDave = new TestApi(server.Url, null))
        {
            // dave signs in for a token and is refused something: his own entries.
            var login = await asDave.Http.PostAsJsonAsync("/api/v1/auth/login", new LoginRequest("dave", TestApi.Password, "audit-test", 1));
            login.EnsureSuccessStatusCode();
            var token = (await login.Content.ReadFromJsonAsync<TokenCreatedDto>())!.Token;
            using var dave = new TestApi(server.Url, token);
            Assert.Equal(HttpStatusCode.Forbidden, (await dave.Http.GetAsync("/api/v1/users")).StatusCode);
        }

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "carol");
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Audit");

        var rows = page.Locator("#audit tbody tr");
        Assert.True(await rows.CountAsync() >= 6);
        // Newest first.
        var seqs = await rows.EvaluateAllAsync<long[]>("rows => rows.map(r => Number(r.dataset.seq))");
        Assert.Equal(seqs.OrderDescending(), seqs);
        await Expect(page.Locator("#audit tbody tr", new() { Has = page.Locator("td.actor", new() { HasText = "admin" }) }).First).ToBeVisibleAsync();
        var denied = page.Locator("#audit tbody tr", new()
        {
            Has = page.Locator("td.outcome", new() { HasText = "denied" }),
        }).Filter(new() { Has = page.Locator("td.actor", new() { HasText = "dave" }) });
        await Expect(denied.First.Locator("td.action")).ToHaveTextAsync("user.read");
        await Expect(denied.First.Locator("td.target")).ToHaveTextAsync("GET /api/v1/users");

        // Filtering by actor narrows the table to that actor's entries.
        var total = await rows.CountAsync();
        await page.Locator("#audit-filter").GetByLabel("Actor").FillAsync("dave");
        await page.Locator("#audit-filter").GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("actor=dave", StringComparison.Ordinal));
        var actors = await page.Locator("#audit tbody td.actor").AllTextContentsAsync();
        Assert.NotEmpty(actors);
        Assert.True(actors.Count < total);
        Assert.All(actors, a => Assert.EndsWith(":dave", a));
        await Expect(page.Locator("#audit-filter").GetByLabel("Actor")).ToHaveValueAsync("dave");
        Assert.Contains("actor=dave", await page.Locator("#export-csv").GetAttributeAsync("href"));
        Assert.Contains("format=json", await page.Locator("#export-json").GetAttributeAsync("href"));

        // The export link returns the same filtered entries.
        var csv = await page.EvaluateAsync<string>("async (href) => (await fetch(href)).text()", await page.Locator("#export-csv").GetAttributeAsync("href"));
        Assert.Contains("dave", csv);
        Assert.DoesNotContain(",carol,", csv);

        // Verifying the chain (the same verifier as the API) reports it intact.
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify chain" }).ClickAsync();
        await Expect(page.Locator("#verify")).ToContainTextAsync("Chain intact");
        await Expect(page.Locator("#verify")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("verify-ok"));
        Assert.Contains("actor=dave", page.Url); // the filters stay
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = "/tmp/slipway-audit-page.png", FullPage = true });

        // Routine entries (allowed reads such as carol's page views, agent traffic) are hidden until asked for.
        await page.GotoAsync("/audit");
        var actions = await page.Locator("#audit tbody td.action").AllTextContentsAsync();
        var outcomes = await page.Locator("#audit tbody td.outcome").AllTextContentsAsync();
        Assert.DoesNotContain(actions.Zip(outcomes), p => p.First == "ui.view" && p.Second.Trim() == "allowed");
        await page.Locator("#show-routine").CheckAsync();
        await page.Locator("#audit-filter").GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("routine=show", StringComparison.Ordinal));
        await Expect(page.Locator("#audit tbody tr", new() { Has = page.Locator("td.action", new() { HasText = "ui.view" }) }).First).ToBeVisibleAsync();
        await Expect(page.Locator("#show-routine")).ToBeCheckedAsync();

        // A bad date is shown as a message, not a raw error.
        await page.GotoAsync("/audit?from=yesterday-ish");
        await Expect(page.Locator("p.error")).ToContainTextAsync("'from' is a date");
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors));
    }

    [Fact]
    public async Task UserAndAuditText_IsShownAsText()
    {
        const string evilName = "<img src=x onerror=alert(1)>";
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("mallory", evilName, "viewer");
        Assert.Equal(HttpStatusCode.NotFound, (await api.Http.GetAsync("/api/v1/projects/%3Cscript%3Ealert(1)%3C%2Fscript%3E")).StatusCode);

        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await browser.SignInAsync();

        await page.GotoAsync("/users");
        await Expect(page.Locator("tr[data-user='mallory'] .display-name")).ToHaveTextAsync(evilName);
        await Expect(page.GetByText(evilName, new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("main img")).ToHaveCountAsync(0);

        await page.GotoAsync("/audit?routine=show&target=" + Uri.EscapeDataString("<script>")); // an allowed read: routine
        var target = page.Locator("#audit td.target", new() { HasText = "<script>alert(1)" }).First;
        await Expect(target).ToBeVisibleAsync();
        Assert.StartsWith("GET /api/v1/projects/<script>alert(1)", await target.TextContentAsync());
        await Expect(page.Locator("main script, main img")).ToHaveCountAsync(0);
        await page.WaitForLoadStateAsync(LoadState.Load);
        await page.WaitForTimeoutAsync(300); // give a would-be handler time to fire
        Assert.Empty(browser.Dialogs);
        Assert.Empty(browser.PageErrors);
        Assert.Equal(0, await page.Locator("script:not([src])").CountAsync());
    }

    [Fact]
    public async Task TokensPage_ShowsNewTokenOnce_AndItWorks()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("erin", "Erin", "developer");
        await using var browser = await BrowserSession.StartAsync(server.Url);
        var page = browser.Page;
        await TestApi.SignInWithPasswordAsync(page, "erin");

        await page.GetByRole(AriaRole.Link, new() { Name = "My tokens" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("My tokens");
        // Scope choices are limited to what erin holds.
        var choices = await page.Locator("#create-token input[name='scope']").EvaluateAllAsync<string[]>("els => els.map(e => e.value)");
        Assert.Contains("run.start", choices);
        Assert.DoesNotContain("user.manage", choices);
        Assert.DoesNotContain("audit.read", choices);

        var form = page.Locator("#create-token");
        await form.GetByLabel("Name").FillAsync("laptop");
        await form.GetByLabel("Expires in days").FillAsync("7");
        await form.Locator("input[name='scope'][value='account.self']").CheckAsync();
        await form.Locator("input[name='scope'][value='project.read']").CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();

        var value = page.Locator("#token-value");
        await Expect(value).ToBeVisibleAsync();
        var token = (await value.TextContentAsync())!.Trim();
        Assert.StartsWith("slp_", token);
        Assert.DoesNotContain(token, page.Url);
        Assert.Equal("/tokens/create", new Uri(page.Url).AbsolutePath); // rendered in the POST response, not via a redirect
        await Expect(page.Locator("#tokens tr", new() { HasText = "laptop" })).ToContainTextAsync("account.self, project.read");

        using (var withToken = new TestApi(server.Url, token))
        {
            var me = await withToken.Http.GetFromJsonAsync<MeDto>("/api/v1/me");
            Assert.Equal("erin", me!.Username);
            Assert.Equal("laptop", me.Token);
            Assert.Equal(HttpStatusCode.Forbidden, (await withToken.Http.GetAsync("/api/v1/agents")).StatusCode); // outside its scope
        }

        // Shown once: the page never shows it again.
        await page.GotoAsync("/tokens");
        Assert.DoesNotContain(token, await page.ContentAsync());
        await Expect(page.Locator("#token-value")).ToHaveCountAsync(0);

        // A scope beyond erin's own permissions is refused with the reason (forced through the form).
        await page.EvaluateAsync("""
            () => { const f = document.querySelector('#create-token'); const i = document.createElement('input');
                    i.type = 'hidden'; i.name = 'scope'; i.value = 'user.manage'; f.appendChild(i); }
            """);
        await form.GetByLabel("Name").FillAsync("too-wide");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("you do not hold user.manage");

        // Revoking it: the token stops working.
        await page.Locator("#tokens tr", new() { HasText = "laptop" }).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("revoked");
        await Expect(page.Locator("#tokens tr", new() { HasText = "laptop" }).Locator(".token-state")).ToHaveTextAsync("revoked");
        using (var withToken = new TestApi(server.Url, token))
            Assert.Equal(HttpStatusCode.Unauthorized, (await withToken.Http.GetAsync("/api/v1/me")).StatusCode);

        // Changing the password: the wrong current password is refused, the right one works for the next sign-in.
        var pw = page.Locator("#change-password");
        await pw.GetByLabel("Current password").FillAsync("not my password at all");
        await pw.GetByLabel("New password", new() { Exact = true }).FillAsync("a brand new passphrase");
        await pw.GetByLabel("Confirm new password").FillAsync("a brand new passphrase");
        await pw.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("current password is wrong");
        await pw.GetByLabel("Current password").FillAsync(TestApi.Password);
        await pw.GetByLabel("New password", new() { Exact = true }).FillAsync("a brand new passphrase");
        await pw.GetByLabel("Confirm new password").FillAsync("a brand new passphrase");
        await pw.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Password changed.");
        using var anonymous = new TestApi(server.Url, null);
        var relogin = await anonymous.Http.PostAsJsonAsync("/api/v1/auth/login", new LoginRequest("erin", "a brand new passphrase", null, 1));
        Assert.Equal(HttpStatusCode.OK, relogin.StatusCode);
        Assert.True(browser.ConsoleErrors.Count == 0, string.Join("\n", browser.ConsoleErrors));
    }

    private static async Task<HttpStatusCode> MeWithCookieAsync(string baseUrl, string session)
    {
        using var http = new TestApi(baseUrl, null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.Add("Cookie", $"slipway_session={session}");
        return (await http.Http.SendAsync(request)).StatusCode;
    }
}
