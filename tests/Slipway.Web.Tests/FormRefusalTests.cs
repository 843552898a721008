using Microsoft.Playwright;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>
/// A refused form keeps what was typed (app.js): the server answers a refusal by going back to the page with its
/// reason, and the page puts the user's input back, except passwords, hidden fields and values that may be secrets,
/// which are never kept in the browser's storage either. A form that succeeded leaves nothing behind.
/// </summary>
public sealed class FormRefusalTests
{
    /// <summary>Copies what the page kept for a refused form into localStorage on every submit, so the test can read it after the page changed.</summary>
    private const string Probe = """
        () => document.addEventListener('submit', () => {
          localStorage.setItem('probe', sessionStorage.getItem('slipway.refusable-form') || '');
        })
        """;

    [Fact]
    public async Task RefusedForms_GetTheirInputBack_ButNeverAPasswordOrASecretValue()
    {
        const string Password = "a password nobody may keep";
        const string SecretValue = "abc"; // too short: refused
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = TestRepos.WithPipeline("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using (var api = TestApi.Admin(server)) await api.CreateUserAsync("ann", null, null);

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();

        // A user name that exists: refused; the name, display name and email come back, the password does not.
        await page.GotoAsync("/users");
        await page.EvaluateAsync(Probe);
        var user = page.Locator("#create-user");
        await user.GetByLabel("Username").FillAsync("ann");
        await user.GetByLabel("Display name").FillAsync("Ann Other");
        await user.GetByLabel("Email").FillAsync("ann.other@example.org");
        await user.GetByLabel("Password").FillAsync(Password);
        await user.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("ann");
        await Expect(user).ToHaveAttributeAsync("data-restored", "true");
        await Expect(user.GetByLabel("Username")).ToHaveValueAsync("ann");
        await Expect(user.GetByLabel("Display name")).ToHaveValueAsync("Ann Other");
        await Expect(user.GetByLabel("Email")).ToHaveValueAsync("ann.other@example.org");
        await Expect(user.GetByLabel("Password")).ToHaveValueAsync("");
        var kept = await page.EvaluateAsync<string>("() => localStorage.getItem('probe')");
        Assert.Contains("Ann Other", kept);
        Assert.DoesNotContain(Password, kept);
        Assert.DoesNotContain("__RequestVerificationToken", kept);
        Assert.Equal("", await page.EvaluateAsync<string>("() => sessionStorage.getItem('slipway.refusable-form') || ''"));

        // A reload shows the form empty again: what was kept is put back once.
        await page.ReloadAsync();
        await Expect(user.GetByLabel("Username")).ToHaveValueAsync("");

        // A repository address with a token in it is a credential: not kept, the rest is.
        await page.GotoAsync("/");
        await page.EvaluateAsync(Probe);
        var project = page.Locator("#project-form");
        await page.Locator("#new-project summary").ClickAsync();
        await project.GetByLabel("Name", new() { Exact = true }).FillAsync("shop");
        await project.GetByLabel("Repository URL (else)").FillAsync("http://ci:tok-in-the-url@127.0.0.1:1/shop.git");
        await project.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToBeVisibleAsync();
        await Expect(project.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("shop");
        await Expect(project.GetByLabel("Repository URL (else)")).ToHaveValueAsync("");
        kept = await page.EvaluateAsync<string>("() => localStorage.getItem('probe')");
        Assert.Contains("\"shop\"", kept);
        Assert.DoesNotContain("tok-in-the-url", kept);

        // A variable's value may be a secret: never kept. The name, the Secret box and where it reaches come back, in the
        // folded section opened again.
        await page.GotoAsync("/projects/shop/variables");
        await page.EvaluateAsync(Probe);
        var variable = page.Locator("#variable-form");
        await variable.GetByLabel("Name").FillAsync("DEPLOY_TOKEN");
        await variable.GetByLabel("Value").FillAsync(SecretValue);
        await variable.GetByLabel("Secret (write-only, masked in logs)").CheckAsync();
        await variable.GetByLabel("Reaches").SelectOptionAsync("true");
        await variable.GetByRole(AriaRole.Button, new() { Name = "Set" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("secret 'DEPLOY_TOKEN' is shorter than");
        await Expect(variable).ToBeVisibleAsync();
        await Expect(variable.GetByLabel("Name")).ToHaveValueAsync("DEPLOY_TOKEN");
        await Expect(variable.GetByLabel("Secret (write-only, masked in logs)")).ToBeCheckedAsync();
        await Expect(variable.GetByLabel("Reaches")).ToHaveValueAsync("true");
        await Expect(variable.GetByLabel("Value")).ToHaveValueAsync("");
        kept = await page.EvaluateAsync<string>("() => localStorage.getItem('probe')");
        Assert.Contains("DEPLOY_TOKEN", kept);
        Assert.DoesNotContain($"\"value\":\"{SecretValue}\"", kept);
        Assert.DoesNotContain("\"name\":\"value\"", kept);

        // A form that succeeds leaves nothing to put back on the next page that shows an error.
        await variable.GetByLabel("Name").FillAsync("REGION");
        await variable.GetByLabel("Value").FillAsync("eu-west-1");
        await variable.GetByLabel("Secret (write-only, masked in logs)").UncheckAsync();
        await variable.GetByRole(AriaRole.Button, new() { Name = "Set" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("Variable REGION set");
        Assert.Null(await variable.GetAttributeAsync("data-restored"));
        Assert.Empty(admin.PageErrors);
    }
}
