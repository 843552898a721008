using System.Net;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>Segregation of duties and escalation: nobody widens their own access or hands out what they do not hold.</summary>
public sealed class SeparationTests
{
    private static Task<SlipwayTestServer> StartAsync() => SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);

    [Fact]
    public async Task AUser_CannotGrantThemselvesARole()
    {
        await using var server = await StartAsync();
        using var second = Http(server, await UserWithRoleAsync(server, "second-admin", BuiltInRoles.Admin));

        var response = await second.PostAsync("/api/v1/users/second-admin/grants", Body(new GrantRequest(BuiltInRoles.Analyst, null, null)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("no-self-grant", (await ReadAsync<ErrorDto>(response)).Error);
        var user = await ReadAsync<UserDto>(await Admin(server).GetAsync("/api/v1/users/second-admin"));
        Assert.Equal([BuiltInRoles.Admin], user.Grants.Select(g => g.Role));
    }

    [Fact]
    public async Task AGrantManager_WithoutUserManage_CannotGrantAdmin()
    {
        await using var server = await StartAsync();
        await CreateRoleAsync(server, "granter", Actions.GrantManage, Actions.UserRead, Actions.ProjectRead);
        using var granter = Http(server, await UserWithRoleAsync(server, "gina", "granter"));
        await CreateUserAsync(server, "pal");

        var admin = await granter.PostAsync("/api/v1/users/pal/grants", Body(new GrantRequest(BuiltInRoles.Admin, null, null)));
        var developer = await granter.PostAsync("/api/v1/users/pal/grants", Body(new GrantRequest(BuiltInRoles.Developer, null, null)));
        var own = await granter.PostAsync("/api/v1/users/pal/grants", Body(new GrantRequest("granter", null, null)));

        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        var error = (await ReadAsync<ErrorDto>(admin)).Error;
        Assert.Contains("no-escalation", error);
        Assert.Contains(Actions.UserManage, error);
        Assert.Equal(HttpStatusCode.Forbidden, developer.StatusCode);
        Assert.Contains("no-escalation", (await ReadAsync<ErrorDto>(developer)).Error);
        await Expect(own, HttpStatusCode.OK); // what they hold they may hand on
    }

    [Fact]
    public async Task AGrantManager_HoldingARoleOnOneProject_CannotGrantItGlobally()
    {
        await using var server = await StartAsync();
        var repos = new List<IDisposable>();
        try
        {
            await CreateProjectAsync(server, "shop", repos);
            await CreateProjectAsync(server, "bank", repos);
            await CreateRoleAsync(server, "granter", Actions.GrantManage, Actions.UserRead);
            await UserWithRoleAsync(server, "gina", "granter");
            await GrantAsync(server, "gina", BuiltInRoles.Developer, "shop");
            using var gina = Http(server, (await LoginAsync(server, "gina")).Token);
            await CreateUserAsync(server, "pal");

            var global = await gina.PostAsync("/api/v1/users/pal/grants", Body(new GrantRequest(BuiltInRoles.Developer, null, null)));
            var otherProject = await gina.PostAsync("/api/v1/users/pal/grants", Body(new GrantRequest(BuiltInRoles.Developer, "bank", null)));
            var sameProject = await gina.PostAsync("/api/v1/users/pal/grants", Body(new GrantRequest(BuiltInRoles.Viewer, "shop", null)));

            Assert.Equal(HttpStatusCode.Forbidden, global.StatusCode);
            Assert.Contains("no-escalation", (await ReadAsync<ErrorDto>(global)).Error);
            Assert.Equal(HttpStatusCode.Forbidden, otherProject.StatusCode);
            await Expect(sameProject, HttpStatusCode.OK);
        }
        finally
        {
            foreach (var repo in repos) repo.Dispose();
        }
    }

    [Fact]
    public async Task TheLastAdmin_CannotBeDisabledOrLoseAdmin()
    {
        await using var server = await StartAsync();
        await CreateRoleAsync(server, "people", Actions.UserManage, Actions.GrantManage, Actions.UserRead);
        using var people = Http(server, await UserWithRoleAsync(server, "hr", "people"));
        using var admin = Admin(server);

        var disable = await admin.PostAsync("/api/v1/users/admin/disable", null);
        var revoke = await admin.PostAsync("/api/v1/users/admin/grants/revoke", Body(new GrantRequest(BuiltInRoles.Admin, null, null)));
        Assert.Equal(HttpStatusCode.Conflict, disable.StatusCode);
        Assert.Contains("last enabled admin", await disable.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, revoke.StatusCode);
        Assert.Contains("last enabled admin", await revoke.Content.ReadAsStringAsync());
        // Someone who does not hold what an admin holds may neither disable nor demote one.
        foreach (var refused in new[]
                 {
                     await people.PostAsync("/api/v1/users/admin/disable", null),
                     await people.PostAsync("/api/v1/users/admin/grants/revoke", Body(new GrantRequest(BuiltInRoles.Admin, null, null))),
                 })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("no-escalation", await refused.Content.ReadAsStringAsync());
        }
        await Expect(await admin.GetAsync("/api/v1/me"), HttpStatusCode.OK);

        // With a second admin, the first may go.
        await UserWithRoleAsync(server, "admin-two", BuiltInRoles.Admin);
        using var two = Http(server, (await LoginAsync(server, "admin-two")).Token);
        await Expect(await two.PostAsync("/api/v1/users/admin/grants/revoke", Body(new GrantRequest(BuiltInRoles.Admin, null, null))), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Conflict, (await two.PostAsync("/api/v1/users/admin-two/disable", null)).StatusCode);
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("eve<script>")]
    [InlineData("a\"onmouseover=\"x")]
    [InlineData("Admin")]
    [InlineData("ad min")]
    [InlineData("../admin")]
    [InlineData("")]
    public async Task Usernames_WithMarkupOrOddCharacters_AreRefused(string username)
    {
        await using var server = await StartAsync();
        using var admin = Admin(server);

        var response = await admin.PostAsync("/api/v1/users", Body(new CreateUserRequest(username, null, null, null)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task DisplayNames_WithMarkup_AreStoredAndReturnedVerbatim_AsJsonText()
    {
        const string display = "<script>alert(1)</script> & \"Bobby\" <img src=x onerror=alert(2)>";
        await using var server = await StartAsync();
        using var admin = Admin(server);

        await Expect(await admin.PostAsync("/api/v1/users", Body(new CreateUserRequest("bobby", display, null, null))), HttpStatusCode.Created);
        var response = await admin.GetAsync("/api/v1/users/bobby");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(display, (await ReadAsync<UserDto>(response)).DisplayName);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(display, (await ReadAsync<List<UserDto>>(await admin.GetAsync("/api/v1/users"))).Single(u => u.Username == "bobby").DisplayName);
    }

    [Fact]
    public async Task AUserManager_CannotTakeOverAnAdminByResettingTheirPassword()
    {
        await using var server = await StartAsync();
        await CreateRoleAsync(server, "helpdesk", Actions.UserManage, Actions.UserRead);
        using var helpdesk = Http(server, await UserWithRoleAsync(server, "desk", "helpdesk"));
        await UserWithRoleAsync(server, "boss", BuiltInRoles.Admin);
        await UserWithRoleAsync(server, "intern", null);

        var boss = await helpdesk.PostAsync("/api/v1/users/boss/password", Body(new SetPasswordRequest("a brand new password 1", null)));
        var intern = await helpdesk.PostAsync("/api/v1/users/intern/password", Body(new SetPasswordRequest("a brand new password 2", null)));

        Assert.Equal(HttpStatusCode.Forbidden, boss.StatusCode);
        Assert.Contains("no-escalation", (await ReadAsync<ErrorDto>(boss)).Error);
        using var http = Http(server);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/api/v1/auth/login",
            Body(new LoginRequest("boss", "a brand new password 1", null, null)))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, intern.StatusCode); // holds nothing the helpdesk lacks
    }
}
