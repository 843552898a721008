using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// The project's variables page in a real browser: an admin sets a plain variable and a secret (a too-short secret is
/// refused with the reason), changes where one reaches, and deletes one; a secret's value never reaches a page, the API
/// or the audit log; a developer reads the list without any form, and her forced posts are refused.
/// </summary>
public sealed class VariablePagesTests
{
    [Fact]
    public async Task Admin_SetsVariablesAndSecrets_TheSecretIsNeverShown_ADeveloperOnlyReads()
    {
        const string SecretValue = "s3cr3t-deploy-token-value";
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using (var api = TestApi.Admin(server)) await api.CreateUserAsync("dana", null, "developer");

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();
        await page.GotoAsync("/projects/shop");
        await page.Locator("#variables-link").ClickAsync();
        await Expect(page.Locator("#no-variables")).ToHaveTextAsync("No variables.");

        var form = page.Locator("#variable-form");
        async Task SetAsync(string name, string value, bool secret, string reaches)
        {
            if (!await form.IsVisibleAsync()) await page.Locator("#set-variable summary").ClickAsync();
            await form.GetByLabel("Name").FillAsync(name);
            await form.GetByLabel("Value").FillAsync(value);
            await form.GetByLabel("Secret (write-only, masked in logs)").SetCheckedAsync(secret);
            await form.GetByLabel("Reaches").SelectOptionAsync(reaches);
            await form.GetByRole(AriaRole.Button, new() { Name = "Set" }).ClickAsync();
        }

        // A value typed as a secret is masked on screen once Secret is ticked, shown again when it is not.
        await Expect(form).ToBeVisibleAsync(); // open while the project has no variable
        async Task<string> MaskAsync() => await form.GetByLabel("Value").EvaluateAsync<string>("e => getComputedStyle(e).webkitTextSecurity");
        Assert.Equal("none", await MaskAsync());
        await form.GetByLabel("Secret (write-only, masked in logs)").CheckAsync();
        Assert.Equal("disc", await MaskAsync());
        await form.GetByLabel("Secret (write-only, masked in logs)").UncheckAsync();
        Assert.Equal("none", await MaskAsync());

        await SetAsync("REGION", "eu-west-1", secret: false, reaches: "");
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Variable REGION set; it reaches every branch.");
        await SetAsync("DEPLOY_TOKEN", "abc", secret: true, reaches: "");
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("secret 'DEPLOY_TOKEN' is shorter than");
        await SetAsync("DEPLOY_TOKEN", SecretValue, secret: true, reaches: "");
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Secret DEPLOY_TOKEN set; it reaches protected branches and deployments only.");
        await SetAsync("REGION", "eu-central-1", secret: false, reaches: "true");
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Variable REGION set; it reaches protected branches and deployments only.");
        // Rotating a secret without ticking Secret would show its value to every reader: refused, the secret stays.
        await SetAsync("DEPLOY_TOKEN", "rotated-" + SecretValue, secret: false, reaches: "");
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("'DEPLOY_TOKEN' is a secret: set its new value as a secret, or delete it first");
        // A value of several lines (a key, a certificate) arrives as typed, with plain line feeds.
        await SetAsync("HOSTS", "web-1\nweb-2", secret: false, reaches: "");
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Variable HOSTS set; it reaches every branch.");

        var region = page.Locator("#variables tr[data-name='REGION']");
        await Expect(region).ToHaveAttributeAsync("data-protected", "true");
        await Expect(region.Locator(".value")).ToHaveTextAsync("eu-central-1");
        var token = page.Locator("#variables tr[data-name='DEPLOY_TOKEN']");
        await Expect(token).ToHaveAttributeAsync("data-secret", "true");
        await Expect(token).ToContainTextAsync("secret (hidden)");
        Assert.DoesNotContain(SecretValue, await page.ContentAsync());

        // A developer reads the list (no secret value) and has no form; her forced posts change nothing.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/projects/shop/variables");
        await Expect(developer.Page.Locator("#variables tr[data-name]")).ToHaveCountAsync(3);
        await Expect(developer.Page.Locator("#variable-form, #variables form")).ToHaveCountAsync(0);
        Assert.DoesNotContain(SecretValue, await developer.Page.ContentAsync());
        var forced = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/variables/DEPLOY_TOKEN/delete");
        Assert.Contains("may not variable.write", WebUtility.HtmlDecode(forced.Body));
        forced = await PageForms.PostAndFollowAsync(developer.Page, "/projects/shop/variables",
            new Dictionary<string, string> { ["name"] = "REGION", ["value"] = "evil", ["protected"] = "false" });
        Assert.Contains("may not variable.write", WebUtility.HtmlDecode(forced.Body));

        await region.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Variable REGION deleted.");
        await Expect(page.Locator("#variables tr[data-name]")).ToHaveCountAsync(2);

        using (var api = TestApi.Admin(server))
        {
            var variables = (await api.Http.GetFromJsonAsync<List<VariableDto>>("/api/v1/projects/shop/variables"))!;
            Assert.Equal(["DEPLOY_TOKEN", "HOSTS"], variables.Select(v => v.Name));
            Assert.Equal(("DEPLOY_TOKEN", true, null, true), (variables[0].Name, variables[0].Secret, variables[0].Value, variables[0].Protected));
            Assert.Equal("web-1\nweb-2", variables[1].Value);
            var audit = (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=variable.write"))!;
            Assert.Equal(5, audit.Count(a => a.Outcome == "succeeded")); // four sets and a delete; the refused ones set nothing
            Assert.Contains(audit, a => a.Target == "project:shop variable:DEPLOY_TOKEN" && a.Detail == "secret set (value not recorded), protected: only protected branches and deployments get it");
            Assert.DoesNotContain(audit, a => (a.Detail ?? "").Contains(SecretValue) || (a.Detail ?? "").Contains("eu-"));
        }
        Assert.Empty(admin.PageErrors);
        Assert.Empty(developer.PageErrors);
    }
}
