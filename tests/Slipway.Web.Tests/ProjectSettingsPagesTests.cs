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
/// without any form or the credential, and her forced posts are refused.
/// </summary>
public sealed class ProjectSettingsPagesTests
{
    [Fact]
    public async Task Admin_ChangesRepositorySettings_TheApiAgrees_ADeveloperOnlyReads()
    {
        const string Password = "hunter2-fetch-token";
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
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

        // Merge rules.
        await page.Locator("#set-merge-rules summary").ClickAsync();
        var rules = page.Locator("#merge-rules-form");
        await rules.GetByLabel("Target branch").FillAsync("main");
        await rules.GetByLabel("Approvals required").FillAsync("two");
        await rules.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("'approvals required' must be a whole number, not 'two'");
        await page.Locator("#set-merge-rules summary").ClickAsync();
        await rules.GetByLabel("Target branch").FillAsync("main");
        await rules.GetByLabel("Approvals required").FillAsync("2");
        await rules.GetByLabel("A new push dismisses earlier approvals").CheckAsync();
        await rules.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Merge rules of main: 2 approvals required, stale approvals dismissed.");
        var mainRules = page.Locator("#merge-rules tr[data-branch='main'] td");
        await Expect(mainRules.Nth(1)).ToHaveTextAsync("2");
        await Expect(mainRules.Nth(2)).ToHaveTextAsync("dismissed by a new push");
        await Expect(mainRules.Nth(3)).ToContainTextAsync("admin, ");

        // The repository credential: the user name shows, the password never.
        await page.Locator("#set-credential summary").ClickAsync();
        var credential = page.Locator("#credential-form");
        await credential.GetByLabel("User name").FillAsync("ci-bot");
        await credential.GetByLabel("Password or token").FillAsync(Password);
        await credential.GetByRole(AriaRole.Button, new() { Name = "Save credential" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Credential of ci-bot saved; the next fetch uses it.");
        await Expect(page.Locator("#credential")).ToContainTextAsync("the credential of ci-bot");
        Assert.DoesNotContain(Password, await page.ContentAsync());

        // A developer reads the settings, without forms or the credential; her forced posts change nothing.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/projects/shop/settings");
        await Expect(developer.Page.Locator("#protected-branches li")).ToHaveCountAsync(2);
        await Expect(developer.Page.Locator("#merge-rules tr[data-branch='main']")).ToContainTextAsync("2");
        await Expect(developer.Page.Locator("form:not(.signout)")).ToHaveCountAsync(0);
        await Expect(developer.Page.Locator("#credential")).ToHaveCountAsync(0);
        foreach (var (path, fields) in new (string, Dictionary<string, string>)[]
                 {
                     ("/projects/shop/settings/protected-branches", new() { ["branch"] = "dev" }),
                     ("/projects/shop/settings/release-branches", new() { ["branches"] = "main" }),
                     ("/projects/shop/settings/merge-rules", new() { ["branch"] = "main", ["requiredApprovals"] = "0" }),
                     ("/projects/shop/settings/git-credential/remove", new()),
                 })
        {
            var forced = await PageForms.PostAndFollowAsync(developer.Page, path, fields);
            Assert.Contains("may not ", WebUtility.HtmlDecode(forced.Body));
        }

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
            Assert.Equal((2, true, "admin"), (main.RequiredApprovals, main.DismissStaleApprovals, main.UpdatedBy));
            var audit = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?outcome=succeeded&limit=1000"))!.Select(a => a.Detail ?? "").ToList();
            Assert.Contains("release branches: main, release/2.x; protected tags: v*", audit);
            Assert.Contains("merge rules of 'main': 2 approvals required, stale approvals dismissed", audit);
            Assert.Contains("git credential set for user 'ci-bot'", audit);
            Assert.Contains("git credential removed", audit);
            Assert.DoesNotContain(audit, d => d.Contains(Password));
        }
        Assert.Empty(admin.PageErrors);
        Assert.Empty(developer.PageErrors);
    }
}
