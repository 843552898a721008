using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// Creating projects from the projects page in a real browser: an external repository (its first run starts, and the
/// webhook secret shown once really signs a push webhook; it is in no address), a hosted one with its clone command, and
/// refusals with the reason (a taken name, a hosted project with an address); a developer sees no form and her forced
/// post is refused.
/// </summary>
public sealed class ProjectCreationPagesTests
{
    [Fact]
    public async Task Admin_CreatesAnExternalAndAHostedProject_TheSecretShownOnceSignsAWebhook_ADeveloperCannot()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        using (var api = TestApi.Admin(server))
        {
            await api.CreateUserAsync("dana", null, "developer");
            // Creates projects, but not from a path on the server's disk (project.local-repo is for admins).
            var role = await api.Http.PostAsJsonAsync("/api/v1/roles", new CreateRoleRequest("creator", null, ["project.create", "project.read", "ui.view"]));
            Assert.Equal(HttpStatusCode.Created, role.StatusCode);
            await api.CreateUserAsync("cleo", null, "creator");
        }

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();
        await page.GotoAsync("/");
        await Expect(page.Locator("#no-projects")).ToHaveTextAsync("No projects yet.");
        var form = page.Locator("#project-form");
        await Expect(form).ToBeVisibleAsync(); // open when there is no project yet

        // An external repository (a path on the server's disk: admins only).
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync("shop");
        await form.GetByLabel("Repository URL (else)").FillAsync(repo.Path);
        var answer = await page.RunAndWaitForResponseAsync(() => form.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/projects"));
        Assert.Equal("no-cache, no-store", answer.Headers["cache-control"]); // the secret is in this answer: no cache keeps it
        await Expect(page.Locator("#created")).ToContainTextAsync("Project shop created: its first run of main has started.");
        var secret = (await page.Locator("#webhook-secret").InnerTextAsync()).Trim();
        Assert.Matches("^[0-9a-f]{32,}$", secret);
        await Expect(page.Locator("#webhook-url")).ToHaveTextAsync($"{server.Url}/api/v1/projects/shop/hooks/git");
        Assert.Single(await server.Client.ListRunsAsync("shop"));

        // The secret is the project's: a push webhook signed with it starts a run of the pushed commit.
        repo.WriteFile("next.txt", "x");
        var sha = repo.Commit("next");
        var body = "{\"ref\":\"refs/heads/main\",\"after\":\"" + sha + "\",\"repository\":{\"full_name\":\"acme/shop\"}}";
        using (var http = new HttpClient { BaseAddress = new Uri(server.Url) })
        {
            using var hook = new HttpRequestMessage(HttpMethod.Post, "/api/v1/projects/shop/hooks/git") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            hook.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body))));
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(hook)).StatusCode);
        }
        Assert.Contains(await server.Client.ListRunsAsync("shop"), r => r.Commit == sha);
        await page.Locator("#to-project").ClickAsync();
        await Expect(page.Locator("#branches")).ToContainTextAsync("main");

        // Refusals come back to the form with the reason.
        await page.GotoAsync("/");
        await page.Locator("#new-project summary").ClickAsync();
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync("shop");
        await form.GetByLabel("Repository URL (else)").FillAsync(repo.Path);
        await form.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("a project named 'shop' already exists");
        // The form comes back open with what was typed.
        await Expect(form.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("shop");
        await Expect(form.GetByLabel("Repository URL (else)")).ToHaveValueAsync(repo.Path);
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync("site");
        await form.GetByLabel("Hosted by Slipway (an empty repository here, pushed to over HTTP; branch main)").CheckAsync();
        await form.GetByLabel("Repository URL (else)").FillAsync("https://git.example.com/site.git");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("a hosted project takes no repo, branch or credential");

        await form.GetByLabel("Hosted by Slipway (an empty repository here, pushed to over HTTP; branch main)").UncheckAsync();
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync("ext");
        await form.GetByLabel("Repository URL (else)").FillAsync("https://git.example.com/ext.git");
        await form.GetByLabel("Git password or token").FillAsync("token-without-user");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("give both gitUsername and gitPassword, or neither");
        Assert.DoesNotContain("token-without-user", page.Url);
        // The password typed is not put back (the browser never kept it), the rest is.
        await Expect(form.GetByLabel("Git password or token")).ToHaveValueAsync("");
        await Expect(form.GetByLabel("Repository URL (else)")).ToHaveValueAsync("https://git.example.com/ext.git");

        // A hosted project: its clone command, no webhook secret.
        await form.GetByLabel("Repository URL (else)").FillAsync("");
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync("site");
        await form.GetByLabel("Hosted by Slipway (an empty repository here, pushed to over HTTP; branch main)").CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Expect(page.Locator("#created")).ToContainTextAsync("Project site created: its first run of main starts with the first push.");
        await Expect(page.Locator("#clone")).ToHaveTextAsync($"git clone {server.Url}/git/site.git");
        await Expect(page.Locator("#webhook-secret")).ToHaveCountAsync(0);

        // A developer has no form, and her forced post creates nothing.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/");
        await Expect(developer.Page.Locator("#project-form")).ToHaveCountAsync(0);
        var forced = await PageForms.PostAndFollowAsync(developer.Page, "/projects", new Dictionary<string, string> { ["name"] = "evil", ["hosted"] = "on" });
        Assert.Contains("may not project.create", WebUtility.HtmlDecode(forced.Body));
        Assert.DoesNotContain(await server.Client.ListProjectsAsync(), p => p.Name == "evil");

        // Who may create projects but not read the server's disk is refused a path, with the reason, and it is audited.
        await using var creator = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(creator.Page, "cleo");
        await creator.Page.GotoAsync("/");
        var creatorForm = creator.Page.Locator("#project-form");
        await creator.Page.Locator("#new-project summary").ClickAsync();
        await creatorForm.GetByLabel("Name", new() { Exact = true }).FillAsync("local");
        await creatorForm.GetByLabel("Repository URL (else)").FillAsync(repo.Path);
        await creatorForm.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Expect(creator.Page.Locator(".flash.error")).ToContainTextAsync("cleo may not project.local-repo: a project from a path on the server's disk needs an admin");
        Assert.DoesNotContain(await server.Client.ListProjectsAsync(), p => p.Name == "local");
        using (var api = TestApi.Admin(server))
        {
            var denied = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=project.local-repo&outcome=denied"))!;
            Assert.Contains(denied, a => a.Actor == "cleo" && a.Target == "project:local");
            var all = await api.Http.GetStringAsync("/api/v1/audit?limit=1000");
            Assert.DoesNotContain(secret, all);
        }
        Assert.Empty(creator.PageErrors);
        Assert.Empty(admin.PageErrors);
        Assert.Empty(developer.PageErrors);
    }
}
