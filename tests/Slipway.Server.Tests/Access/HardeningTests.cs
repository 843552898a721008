using System.Net;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>Holes found in the security review of the access issue, each closed and held closed by a test.</summary>
public sealed class HardeningTests
{
    private static Task<SlipwayTestServer> StartAsync() => SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
    private static readonly string[] DeveloperActions = [.. BuiltInRoles.Find(BuiltInRoles.Developer)!.Actions];

    [Theory]
    [InlineData(" ")]
    [InlineData("\t")]
    [InlineData("")]
    public async Task ABlankProject_IsAGlobalGrant_AndCheckedAsOne(string project)
    {
        await using var server = await StartAsync();
        await CreateRoleAsync(server, "team-lead", [.. DeveloperActions, Actions.GrantManage, Actions.UserRead]);
        using var lead = Http(server, await UserWithRoleAsync(server, "lena", "team-lead"));
        await CreateUserAsync(server, "bob");

        var admin = await lead.PostAsync("/api/v1/users/bob/grants", Body(new GrantRequest(BuiltInRoles.Admin, project, null)));
        var developer = await lead.PostAsync("/api/v1/users/bob/grants", Body(new GrantRequest(BuiltInRoles.Developer, project, null)));

        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        Assert.Contains("no-escalation", (await ReadAsync<ErrorDto>(admin)).Error);
        var bob = await ReadAsync<UserDto>(await Expect(developer, HttpStatusCode.OK));
        var grant = Assert.Single(bob.Grants);
        Assert.Equal((BuiltInRoles.Developer, (string?)null), (grant.Role, grant.Project));
    }

    [Fact]
    public async Task SomeoneWhoCouldNotGrantAdmin_CannotDisableAnAdmin_OrRevokeTheirGrant()
    {
        await using var server = await StartAsync();
        await CreateRoleAsync(server, "helpdesk", [.. DeveloperActions, Actions.GrantManage, Actions.UserManage, Actions.UserRead]);
        using var desk = Http(server, await UserWithRoleAsync(server, "hal", "helpdesk"));
        await UserWithRoleAsync(server, "second-admin", BuiltInRoles.Admin);

        var disable = await desk.PostAsync("/api/v1/users/second-admin/disable", Body("{}"));
        var revoke = await desk.PostAsync("/api/v1/users/second-admin/grants/revoke", Body(new GrantRequest(BuiltInRoles.Admin, null, null)));

        Assert.Equal(HttpStatusCode.Forbidden, disable.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, revoke.StatusCode);
        var user = await ReadAsync<UserDto>(await Admin(server).GetAsync("/api/v1/users/second-admin"));
        Assert.False(user.Disabled);
        Assert.Equal([BuiltInRoles.Admin], user.Grants.Select(g => g.Role));
    }

    [Fact]
    public async Task AScopedToken_CannotSetThePassword_OrRevokeOtherTokens()
    {
        await using var server = await StartAsync();
        using var admin = Admin(server);
        var scoped = await ReadAsync<TokenCreatedDto>(await Expect(await admin.PostAsync("/api/v1/tokens",
            Body(new CreateTokenRequest("ci", 7, [Actions.RunRead, Actions.AccountSelf]))), HttpStatusCode.Created));
        using var ci = Http(server, scoped.Token);

        var password = await ci.PostAsync("/api/v1/me/password", Body(new SetPasswordRequest("a-long-new-passphrase-42", null)));
        var revoke = await ci.DeleteAsync("/api/v1/tokens/1");

        Assert.Equal(HttpStatusCode.Forbidden, password.StatusCode);
        Assert.Contains("scoped API token", (await ReadAsync<ErrorDto>(password)).Error);
        Assert.Equal(HttpStatusCode.Forbidden, revoke.StatusCode);
        Assert.False((await ReadAsync<UserDto>(await admin.GetAsync("/api/v1/users/admin"))).HasPassword);
        await Expect(await admin.GetAsync("/api/v1/me"), HttpStatusCode.OK); // the bootstrap token still works
    }

    [Fact]
    public async Task ChangingThePassword_EndsTheUsersOtherSessions()
    {
        await using var server = await StartAsync();
        await UserWithRoleAsync(server, "pia", BuiltInRoles.Viewer);
        using var laptop = new Browser(server);
        using var phone = new Browser(server);
        await Expect(await laptop.SignInAsync("pia", Password), HttpStatusCode.Redirect);
        await Expect(await phone.SignInAsync("pia", Password), HttpStatusCode.Redirect);

        var change = await laptop.PostJsonAsync("/api/v1/me/password", new SetPasswordRequest("another-long-passphrase-7", Password), withAntiforgeryHeader: true);

        await Expect(change, HttpStatusCode.NoContent);
        await Expect(await laptop.Http.GetAsync("/api/v1/me"), HttpStatusCode.OK);
        await Expect(await phone.Http.GetAsync("/api/v1/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ParallelGuesses_AreCountedBeforeThePasswordIsChecked()
    {
        await using var server = await StartAsync();
        await CreateUserAsync(server, "target");

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var http = Http(server);
            return (await http.PostAsync("/api/v1/auth/login", Body(new LoginRequest("target", $"guess-number-{i:00}-xx", null, null)))).StatusCode;
        }));

        Assert.Equal(5, answers.Count(s => s == HttpStatusCode.Unauthorized)); // the account limit, not 20 guesses
        Assert.Equal(15, answers.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task AHostileUsername_IsAuditedCleaned_AndDoesNotBreakOtherEntries()
    {
        await using var server = await StartAsync();
        using var anonymous = Http(server);
        var hostile = "evil\u0000name" + new string('x', 5000);

        var answer = await anonymous.PostAsync("/api/v1/auth/login", Body(new LoginRequest(hostile, "whatever-password", null, null)));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        var entry = Assert.Single(await AuditAsync(server, "action=session.create"), e => e.Actor.StartsWith("evil"));
        Assert.True(entry.Actor.Length <= 129);
        Assert.DoesNotContain('\0', entry.Actor);
        Assert.True((await server.Client.VerifyAuditAsync()).Ok);
    }

    [Fact]
    public async Task AProjectScopedUser_CannotTellWhichRunIdsExistElsewhere()
    {
        await using var server = await StartAsync();
        var keepAlive = new List<IDisposable>();
        try
        {
            await CreateProjectAsync(server, "mine", keepAlive);
            var theirRun = await CreateProjectAsync(server, "theirs", keepAlive);
            using var dev = Http(server, await UserWithRoleAsync(server, "dana", BuiltInRoles.Developer, "mine"));

            var existing = await dev.GetAsync($"/api/v1/runs/{theirRun}");
            var missing = await dev.GetAsync("/api/v1/runs/987654");

            Assert.Equal(HttpStatusCode.Forbidden, existing.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode); // same answer: no existence oracle
            Assert.Equal(HttpStatusCode.NotFound, (await Admin(server).GetAsync("/api/v1/runs/987654")).StatusCode);
        }
        finally
        {
            foreach (var d in keepAlive) d.Dispose();
        }
    }

    [Fact]
    public async Task ASessionOpenedWithAToken_EndsWhenTheTokenIsRevoked()
    {
        await using var server = await StartAsync();
        await CreateUserAsync(server, "tom");
        await GrantAsync(server, "tom", BuiltInRoles.Viewer);
        var token = await LoginAsync(server, "tom");
        using var browser = new Browser(server);
        await Expect(await browser.SignInWithTokenAsync(token.Token), HttpStatusCode.Redirect);
        await Expect(await browser.Http.GetAsync("/api/v1/me"), HttpStatusCode.OK);

        using var api = Http(server, token.Token);
        await Expect(await api.DeleteAsync($"/api/v1/tokens/{token.Id}"), HttpStatusCode.NoContent);

        await Expect(await browser.Http.GetAsync("/api/v1/me"), HttpStatusCode.Unauthorized);
    }
}
