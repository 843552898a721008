using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// The project's settings page in a real browser: an admin protects a branch, makes it a release branch with a protected
/// tag pattern, sets merge rules and a repository credential (and removes it); bad values are refused with the reason; the
/// API then answers the same settings and the audit log has them without the password; a developer reads the settings
/// without any form or the credential, and her forced posts are refused. An analyst sets the work item key prefix and
/// pattern there (the board's hint leads to the form); a developer reads them, and her forced post is refused.
/// </summary>
public sealed class ProjectSettingsPagesTests
{
    [Fact]
    public async Task Admin_ChangesRepositorySettings_TheApiAgrees_ADeveloperOnlyReads()
    {
        const string Password = "hunter2-fetch-token";
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        var created = await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using (var api = TestApi.Admin(server)) await api.CreateUserAsync("dana", null, "developer");

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();
        await page.GotoAsync("/projects/shop");
        await page.Locator("#settings-link").ClickAsync();
        await Expect(page.Locator("#protected-branches")).ToHaveTextAsync("main");

        // Protected branches.
        var protect = page.Locator("#protect-form");
        await protect.GetByLabel("Protect branch").FillAsync("bad..name");
        await protect.GetByRole(AriaRole.Button, new() { Name = "Protect" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("'bad..name' is not a valid branch name");
        await protect.GetByLabel("Protect branch").FillAsync("release/2.x");
        await protect.GetByRole(AriaRole.Button, new() { Name = "Protect" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Branch release/2.x is protected: it changes only through merges.");
        await Expect(page.Locator("#protected-branches li[data-branch='release/2.x']")).ToBeVisibleAsync();

        // Release branches and tags: only protected branches may release.
        var releases = page.Locator("#releases-form");
        await page.Locator("#set-releases summary").ClickAsync();
        await releases.GetByLabel("Release branches (protected ones, space separated)").FillAsync("main feature/x");
        await releases.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("branch 'feature/x' is not protected");
        await page.Locator("#set-releases summary").ClickAsync();
        await Expect(releases.GetByLabel("Release branches (protected ones, space separated)")).ToHaveValueAsync("main");
        await releases.GetByLabel("Release branches (protected ones, space separated)").FillAsync("main release/2.x");
        await releases.GetByLabel("Protected tag patterns (space separated, empty: none)").FillAsync("v*");
        await releases.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Release branches: main, release/2.x; protected tags: v*.");
        await Expect(page.Locator("#release-branches")).ToContainTextAsync("Green runs of main, release/2.x release.");
        // A form opened before someone else saved does not overwrite what its user never saw.
        await page.Locator("#set-releases summary").ClickAsync();
        await releases.GetByLabel("Protected tag patterns (space separated, empty: none)").FillAsync("rel-*");
        await server.Client.SetReleaseBranchesAsync("shop", null, ["v*"]);
        await releases.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("the release branches were changed by admin at ");
        await Expect(page.Locator(".flash.error")).ToContainTextAsync(" UTC after you read them; read them again and retry");
        Assert.Equal(["v*"], (await server.Client.GetReleaseBranchesAsync("shop")).ProtectedTags);
        // The default branch and a release branch offer no Unprotect; another protected branch does.
        await protect.GetByLabel("Protect branch").FillAsync("hotfix");
        await protect.GetByRole(AriaRole.Button, new() { Name = "Protect" }).ClickAsync();
        await Expect(page.Locator("#protected-branches li[data-branch='hotfix']")).ToBeVisibleAsync();
        await Expect(page.Locator("#protected-branches li[data-branch='main'] form, #protected-branches li[data-branch='release/2.x'] form")).ToHaveCountAsync(0);
        // A destructive button asks first; saying no changes nothing.
        await page.EvaluateAsync("() => { window.confirm = () => false; }");
        await page.Locator("#protected-branches li[data-branch='hotfix']").GetByRole(AriaRole.Button, new() { Name = "Unprotect" }).ClickAsync();
        await Expect(page.Locator("#protected-branches li[data-branch='hotfix']")).ToBeVisibleAsync();
        Assert.Contains("hotfix", (await server.Client.GetReleaseBranchesAsync("shop")).ProtectedBranches);
        await page.ReloadAsync();
        await page.Locator("#protected-branches li[data-branch='hotfix']").GetByRole(AriaRole.Button, new() { Name = "Unprotect" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Branch hotfix is no longer protected.");
        Assert.Equal("Unprotect this branch? Direct pushes reach it again, and its runs get no protected values.", Assert.Single(admin.Confirms));
        await Expect(page.Locator("#protected-branches li")).ToHaveCountAsync(2);

        // Merge rules.
        await page.Locator("#set-merge-rules summary").ClickAsync();
        var rules = page.Locator("#merge-rules-form");
        await rules.GetByLabel("Target branch").FillAsync("main");
        await rules.GetByLabel("Approvals required").FillAsync("two");
        await rules.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("'approvals required' must be a whole number, not 'two'");
        // The form comes back open with what was typed: only the wrong field needs mending.
        await Expect(rules.GetByLabel("Target branch")).ToHaveValueAsync("main");
        await Expect(rules.GetByLabel("Approvals required")).ToHaveValueAsync("two");
        await rules.GetByLabel("Approvals required").FillAsync("2");
        await rules.GetByLabel("Earlier approvals on a new push").SelectOptionAsync("true");
        await rules.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Merge rules of main: 2 approvals required, stale approvals dismissed.");
        var mainRules = page.Locator("#merge-rules tr[data-branch='main'] td");
        await Expect(mainRules.Nth(1)).ToHaveTextAsync("2");
        await Expect(mainRules.Nth(2)).ToHaveTextAsync("dismissed by a new push");
        await Expect(mainRules.Nth(3)).ToContainTextAsync("admin, ");
        // Fields left empty keep what is set: only the approvals change.
        await page.Locator("#set-merge-rules summary").ClickAsync();
        await rules.GetByLabel("Target branch").FillAsync("main");
        await rules.GetByLabel("Approvals required").FillAsync("3");
        await rules.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Merge rules of main: 3 approvals required, stale approvals dismissed.");
        await Expect(mainRules.Nth(1)).ToHaveTextAsync("3");

        // The repository credential: the user name shows, the password never.
        await page.Locator("#set-credential summary").ClickAsync();
        var credential = page.Locator("#credential-form");
        await credential.GetByLabel("User name").FillAsync("ci-bot");
        await credential.GetByLabel("Password or token").FillAsync(Password);
        await credential.GetByRole(AriaRole.Button, new() { Name = "Save credential" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Credential of ci-bot saved; the next fetch uses it.");
        await Expect(page.Locator("#credential")).ToContainTextAsync("the credential of ci-bot");
        Assert.DoesNotContain(Password, await page.ContentAsync());

        // The push webhook's secret, replaced: the new one is shown once and signs webhooks; the old one no longer does.
        var answer = await page.RunAndWaitForResponseAsync(() => page.Locator("#replace-webhook-secret").GetByRole(AriaRole.Button).ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/settings/webhook-secret"));
        Assert.Equal("no-cache, no-store", answer.Headers["cache-control"]);
        await Expect(page.Locator("#replaced")).ToHaveTextAsync("The push webhook secret of shop was replaced; the old one no longer works.");
        var secret = (await page.Locator("#webhook-secret").InnerTextAsync()).Trim();
        Assert.Matches("^[0-9a-f]{48}$", secret);
        Assert.NotEqual(created.WebhookSecret, secret);
        Assert.Equal(HttpStatusCode.Unauthorized, await PushWebhookAsync(server, created.WebhookSecret!));
        Assert.Equal(HttpStatusCode.OK, await PushWebhookAsync(server, secret));
        // Reloading that page sends the form again: refused, and the secret just shown stays the one in use.
        var again = await page.ReloadAsync();
        Assert.Equal("POST", again!.Request.RedirectedFrom?.Method); // the form sent again, answered with a redirect back
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("was already replaced since this form was shown");
        await Expect(page.Locator("#webhook-secret")).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.OK, await PushWebhookAsync(server, secret));
        // The settings page's form carries the mark of the secret now in use, so replacing it again from there works.
        await Expect(page.Locator("#replace-webhook-secret input[name='replacing']"))
            .ToHaveAttributeAsync("value", RepositorySettingsService.WebhookSecretMark(secret));

        // A developer reads the settings, without forms or the credential; her forced posts change nothing.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/projects/shop/settings");
        await Expect(developer.Page.Locator("#protected-branches li")).ToHaveCountAsync(2);
        await Expect(developer.Page.Locator("#merge-rules tr[data-branch='main'] td").Nth(1)).ToHaveTextAsync("3");
        await Expect(developer.Page.Locator("form:not(.signout)")).ToHaveCountAsync(0);
        await Expect(developer.Page.Locator("#credential")).ToHaveCountAsync(0);
        foreach (var (path, fields, action) in new (string, Dictionary<string, string>, string)[]
                 {
                     ("/projects/shop/settings/protected-branches", new() { ["branch"] = "dev" }, "repo.protect"),
                     ("/projects/shop/settings/release-branches", new() { ["branches"] = "main" }, "repo.protect"),
                     ("/projects/shop/settings/merge-rules", new() { ["branch"] = "main", ["requiredApprovals"] = "0" }, "cr.rules"),
                     ("/projects/shop/settings/git-credential/remove", new(), "repo.credential"),
                     ("/projects/shop/settings/webhook-secret", new(), "repo.credential"),
                     ("/projects/shop/settings/protected-branches/unprotect", new() { ["branch"] = "release/2.x" }, "repo.protect"),
                 })
        {
            var forced = await PageForms.PostAndFollowAsync(developer.Page, path, fields);
            Assert.Contains($"dana may not {action}", WebUtility.HtmlDecode(forced.Body));
        }
        // Nothing they asked for happened: the same protected and release branches, rules, credential and webhook secret.
        var after = await server.Client.GetReleaseBranchesAsync("shop");
        Assert.Equal(["main", "release/2.x"], after.Branches);
        Assert.Equal(["main", "release/2.x"], after.ProtectedBranches);
        Assert.Equal(3, (await server.Client.ListMergeRulesAsync("shop")).Single(r => r.Branch == "main").RequiredApprovals);
        await page.ReloadAsync();
        await Expect(page.Locator("#credential")).ToContainTextAsync("the credential of ci-bot");
        Assert.Equal(HttpStatusCode.OK, await PushWebhookAsync(server, secret));

        await page.Locator("#remove-credential").GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Credential removed.");
        await Expect(page.Locator("#credential")).ToContainTextAsync("No credential");

        using (var api = TestApi.Admin(server))
        {
            var set = (await api.Http.GetFromJsonAsync<ReleaseBranchesDto>("/api/v1/projects/shop/release-branches"))!;
            Assert.Equal(["main", "release/2.x"], set.Branches);
            Assert.Equal(["v*"], set.ProtectedTags);
            Assert.Equal(["main", "release/2.x"], set.ProtectedBranches);
            var main = (await api.Http.GetFromJsonAsync<List<MergeRulesDto>>("/api/v1/projects/shop/merge-rules"))!.Single(r => r.Branch == "main");
            Assert.Equal((3, true, "admin"), (main.RequiredApprovals, main.DismissStaleApprovals, main.UpdatedBy));
            var audit = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?outcome=succeeded&limit=1000"))!.Select(a => a.Detail ?? "").ToList();
            Assert.Contains("release branches: main, release/2.x; protected tags: v*", audit);
            Assert.Contains("merge rules of 'main': 2 approvals required, stale approvals dismissed", audit);
            Assert.Contains("git credential set for user 'ci-bot'", audit);
            Assert.Contains("git credential removed", audit);
            Assert.Contains("push webhook secret replaced (value not recorded)", audit);
            Assert.DoesNotContain(audit, d => d.Contains(Password) || d.Contains(secret));
        }
        Assert.Empty(admin.PageErrors);
        Assert.Empty(developer.PageErrors);
    }

    [Fact]
    public async Task Analyst_SetsTheWorkItemKeyOnTheSettingsPage_TheApiAgrees_ADeveloperOnlyReads()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using (var api = TestApi.Admin(server))
        {
            await api.CreateUserAsync("ann", null, "analyst");
            await api.CreateUserAsync("dana", null, "developer");
        }
        async Task<ProjectDto> ShopAsync() => (await server.Client.ListProjectsAsync()).Single(p => p.Name == "shop");

        // The board's hint leads to the settings page, where the form is open while no prefix is set.
        await using var ann = await BrowserSession.StartAsync(server.Url);
        var page = ann.Page;
        await TestApi.SignInWithPasswordAsync(page, "ann");
        await page.GotoAsync("/projects/shop/board");
        await page.Locator("#no-key-prefix a#set-key-prefix").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/projects/shop/settings#set-item-key$"));
        await Expect(page.Locator("#item-key")).ToContainTextAsync("No key prefix yet");
        var form = page.Locator("#item-key-form");
        await Expect(form).ToBeVisibleAsync();
        // Folded once a prefix is set; a refused form comes back open.
        async Task OpenAsync() { if (!await form.IsVisibleAsync()) await page.Locator("#set-item-key summary").ClickAsync(); }

        // A bad prefix is refused with the reason; a good one is set, and the API answers it.
        await form.GetByLabel("Key prefix").FillAsync("1shop");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save key settings" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("the key prefix must start with an upper-case letter A-Z");
        Assert.Null((await ShopAsync()).ItemKeyPrefix);
        await form.GetByLabel("Key prefix").FillAsync("shop"); // typed in lower case: the page takes it upper-case
        await form.GetByRole(AriaRole.Button, new() { Name = "Save key settings" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Work items of shop are keyed SHOP-N; keys are found with the default pattern.");
        await Expect(page.Locator("#item-key-prefix")).ToHaveTextAsync("SHOP");
        Assert.Equal("SHOP", (await ShopAsync()).ItemKeyPrefix);

        // The pattern: one without a key or number group is refused; a good one is checked and kept.
        const string Pattern = @"#(?<number>[0-9]+)\b";
        await OpenAsync();
        await form.GetByLabel("Key pattern (empty: the default)").FillAsync("SHOP-[0-9]+");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save key settings" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("the key pattern must name what it finds: a group (?<key>...)");
        Assert.Null((await ShopAsync()).ItemKeyPattern);
        await OpenAsync();
        await form.GetByLabel("Key pattern (empty: the default)").FillAsync(Pattern);
        await form.GetByRole(AriaRole.Button, new() { Name = "Save key settings" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync($"Work items of shop are keyed SHOP-N; keys are found with the pattern {Pattern}.");
        await Expect(page.Locator("#item-key-pattern")).ToHaveTextAsync(Pattern);
        Assert.Equal(Pattern, (await ShopAsync()).ItemKeyPattern);

        // Only what the user changed is saved: a form opened before the pattern went back to the default (through the
        // API) changes the prefix and leaves the pattern as the API set it.
        await OpenAsync();
        await Expect(form.GetByLabel("Key pattern (empty: the default)")).ToHaveValueAsync(Pattern);
        await server.Client.SetItemKeyAsync("shop", null, "");
        await form.GetByLabel("Key prefix").FillAsync("SHOP2");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save key settings" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Work items of shop are keyed SHOP2-N; keys are found with the default pattern.");
        Assert.Equal(("SHOP2", (string?)null), ((await ShopAsync()).ItemKeyPrefix, (await ShopAsync()).ItemKeyPattern));
        // Once the project has items, the prefix is refused (the service's rule, as from the API).
        await server.Client.CreateWorkItemAsync("shop", "Cart total");
        await OpenAsync();
        await form.GetByLabel("Key prefix").FillAsync("SHOP");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save key settings" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("the project has work items keyed 'SHOP2-…'");
        Assert.Equal("SHOP2", (await ShopAsync()).ItemKeyPrefix);
        // The board now offers the create form instead of the hint.
        await page.GotoAsync("/projects/shop/board");
        await Expect(page.Locator("#no-key-prefix")).ToHaveCountAsync(0);
        await Expect(page.Locator("#create-item")).ToHaveCountAsync(1);

        // A developer (no item.write) reads the key, gets no form, and her forced post is refused.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/projects/shop/settings");
        await Expect(developer.Page.Locator("#item-key-prefix")).ToHaveTextAsync("SHOP2");
        await Expect(developer.Page.Locator("#item-key")).ToContainTextAsync("the default pattern");
        await Expect(developer.Page.Locator("#item-key-form, #set-item-key")).ToHaveCountAsync(0);
        var forced = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/settings/item-key", new Dictionary<string, string> { ["pattern"] = "#(?<number>[0-9]+)" });
        Assert.Contains("dana may not item.write", WebUtility.HtmlDecode(forced.Body));
        Assert.Null((await ShopAsync()).ItemKeyPattern);

        using (var api = TestApi.Admin(server))
        {
            var audit = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?actor=ann&outcome=succeeded&limit=100"))!.Select(a => a.Detail ?? "").ToList();
            Assert.Contains("work item key prefix set to SHOP", audit);
            Assert.Contains($"work item key pattern set to {Pattern}", audit);
            Assert.Contains("work item key prefix set to SHOP2", audit);
        }
        Assert.Empty(ann.PageErrors);
        Assert.Empty(developer.PageErrors);
    }

    /// <summary>A push webhook for main signed with <paramref name="secret"/>, as GitHub sends it; the server's answer.</summary>
    private static async Task<HttpStatusCode> PushWebhookAsync(SlipwayTestServer server, string secret)
    {
        var head = (await server.Client.ListBranchesAsync("shop")).Single(b => b.Name == "main").Head;
        var body = "{\"ref\":\"refs/heads/main\",\"after\":\"" + head + "\",\"repository\":{\"full_name\":\"acme/shop\"}}";
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var hook = new HttpRequestMessage(HttpMethod.Post, "/api/v1/projects/shop/hooks/git")
            { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        hook.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(body))));
        using var response = await http.SendAsync(hook);
        return response.StatusCode;
    }
}
