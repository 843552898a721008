using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>An admin sets another user's password on the users page, through a real browser.</summary>
public sealed class UserPasswordPagesTests
{
    private const string NewPassword = "a fresh passphrase, set by an admin";

    [Fact]
    public async Task UsersPage_AdminSetsAPassword_ThatSignsTheUserIn_EndingTheirSessions()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("ann", "Ann", "developer");
        // Uma reads the users page (a custom role with user.read) but may not manage users.
        Assert.True((await api.Http.PostAsJsonAsync("/api/v1/roles", new CreateRoleRequest("user-reader", null, ["user.read"]))).IsSuccessStatusCode);
        await api.CreateUserAsync("uma", "Uma", "viewer");
        Assert.True((await api.Http.PostAsJsonAsync("/api/v1/users/uma/grants", new GrantRequest("user-reader", null, null))).IsSuccessStatusCode);
        // Ann is signed in elsewhere: that session ends when her password is set.
        await using var ann = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(ann.Page, "ann");

        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();
        await page.GotoAsync("/users");
        // Not on one's own row: that is My tokens' form, which asks for the current password.
        await Expect(page.Locator("tr[data-user='admin'] details.set-password")).ToHaveCountAsync(0);
        await Expect(page.Locator("tr[data-user='admin']")).ToContainTextAsync("Your own password: My tokens");

        var row = page.Locator("tr[data-user='ann']");
        await row.Locator("summary", new() { HasText = "Set password" }).ClickAsync();
        await Expect(row.Locator("details.set-password .hint")).ToContainTextAsync("Their web sessions end at once; their API tokens");
        await Expect(row.GetByLabel("New password", new() { Exact = true })).ToHaveAttributeAsync("autocomplete", "new-password");
        await Expect(row.GetByLabel("Confirm new password")).ToHaveAttributeAsync("autocomplete", "new-password");

        // The two differ: refused, saying so, and nothing typed comes back.
        await row.GetByLabel("New password", new() { Exact = true }).FillAsync(NewPassword);
        await row.GetByLabel("Confirm new password").FillAsync(NewPassword + "!");
        await row.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("password of 'ann' not set: the new password and its confirmation differ");
        Assert.DoesNotContain(NewPassword, await page.ContentAsync());
        await Expect(row.GetByLabel("New password", new() { Exact = true })).ToHaveValueAsync("");
        await Expect(row.GetByLabel("Confirm new password")).ToHaveValueAsync("");

        // The form is opened again after the refusal (with nothing in it). An unacceptable password: the service's reason.
        await Expect(row.Locator("details.set-password")).ToHaveAttributeAsync("open", "");
        // The rules are said beforehand (and the length is checked by the browser too).
        await Expect(row.Locator(".hint")).ToContainTextAsync("A password has 12 to 256 characters, at least 5 different ones, and does not contain the user name (ann).");
        await Expect(row.GetByLabel("New password", new() { Exact = true })).ToHaveAttributeAsync("minlength", "12");
        await row.GetByLabel("New password", new() { Exact = true }).FillAsync("xx-ann-xx-12345");
        await row.GetByLabel("Confirm new password").FillAsync("xx-ann-xx-12345");
        await row.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToHaveTextAsync("password of 'ann' not set: a password must not contain the username");
        Assert.Equal(HttpStatusCode.OK, await SignInStatusAsync(server, "ann", TestApi.Password));

        await Expect(row.Locator("details.set-password")).ToHaveAttributeAsync("open", "");
        await row.GetByLabel("New password", new() { Exact = true }).FillAsync(NewPassword);
        await row.GetByLabel("Confirm new password").FillAsync(NewPassword);
        await row.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("Password of 'ann' set; their web sessions ended.");
        Assert.DoesNotContain(NewPassword, await page.ContentAsync());
        Assert.DoesNotContain(NewPassword, page.Url);

        // The new password signs ann in, the old one no longer does, and her open session has ended.
        Assert.Equal(HttpStatusCode.OK, await SignInStatusAsync(server, "ann", NewPassword));
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInStatusAsync(server, "ann", TestApi.Password));
        await ann.Page.GotoAsync("/");
        Assert.Equal("/login", new Uri(ann.Page.Url).AbsolutePath);
        await TestApi.SignInWithPasswordAsync(ann.Page, "ann", NewPassword);
        await Expect(ann.Page.Locator("header .user")).ToHaveTextAsync("Ann (ann)");

        // The audit log says it was set, never what it is.
        await page.GotoAsync("/audit");
        await Expect(page.Locator("#audit tbody tr", new() { HasText = "password set by an admin" }).First).ToBeVisibleAsync();
        Assert.DoesNotContain(NewPassword, await page.ContentAsync());

        // Uma sees the users page without the form, and her forced post is refused and changes nothing.
        await using var viewer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(viewer.Page, "uma");
        await viewer.Page.GotoAsync("/users");
        await Expect(viewer.Page.Locator("tr[data-user='ann']")).ToBeVisibleAsync();
        await Expect(viewer.Page.Locator("details.set-password, form[action$='/password'], input[type=password]")).ToHaveCountAsync(0);
        var forced = await PageForms.PostAndFollowAsync(viewer.Page, "/users/ann/password",
            new Dictionary<string, string> { ["password"] = "uma took over ann", ["confirm"] = "uma took over ann" });
        Assert.Equal(403, forced.Status);
        Assert.Contains("uma may not user.manage", WebUtility.HtmlDecode(forced.Body));
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInStatusAsync(server, "ann", "uma took over ann"));
        Assert.Equal(HttpStatusCode.OK, await SignInStatusAsync(server, "ann", NewPassword));

        Assert.Empty(admin.PageErrors);
        Assert.Empty(ann.PageErrors);
        Assert.Empty(viewer.PageErrors);
        Assert.True(admin.ConsoleErrors.Count == 0, string.Join("\n", admin.ConsoleErrors));
    }

    /// <summary>A password sign-in through the API (a token of its own name each time): 200 with the right password.</summary>
    private static async Task<HttpStatusCode> SignInStatusAsync(SlipwayTestServer server, string username, string password)
    {
        using var anonymous = new TestApi(server.Url, null);
        using var answer = await anonymous.Http.PostAsJsonAsync("/api/v1/auth/login", new LoginRequest(username, password, $"check {Guid.NewGuid():N}", 1));
        return answer.StatusCode;
    }
}
