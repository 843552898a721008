using System.Net;
using System.Text.Json;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

public sealed class TokenFixture : IAsyncLifetime
{
    public const string Project = "shop";
    private readonly List<IDisposable> _repos = [];
    public SlipwayTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await SlipwayTestServer.StartAsync(o =>
        {
            o.EmbeddedAgent = false;
            o.SignInFailuresPerAddress = 10_000;
        });
        await CreateProjectAsync(Server, Project, _repos);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        foreach (var repo in _repos) repo.Dispose();
    }
}

public sealed class TokenTests(TokenFixture fixture) : IClassFixture<TokenFixture>
{
    private SlipwayTestServer Server => fixture.Server;
    private static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static async Task<HttpResponseMessage> CreateTokenAsync(HttpClient http, string name, int? days, params string[] scope) =>
        await http.PostAsync("/api/v1/tokens", Body(new CreateTokenRequest(name, days, scope.Length == 0 ? null : scope)));

    [Fact]
    public async Task NewToken_HasItsNameExpiryAndScope_AndItsSecretIsShownOnlyOnce()
    {
        using var me = Http(Server, await UserWithRoleAsync(Server, NewName("dev"), BuiltInRoles.Developer));

        var created = await ReadAsync<TokenCreatedDto>(await Expect(await CreateTokenAsync(me, "ci", 7, Actions.ProjectRead, Actions.RunRead), HttpStatusCode.Created));

        Assert.StartsWith(Tokens.UserPrefix, created.Token);
        Assert.Equal("ci", created.Name);
        Assert.Equal([Actions.ProjectRead, Actions.RunRead], created.Scope);
        Assert.InRange(created.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddDays(7).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7).AddMinutes(5));
        var listing = await (await Expect(await me.GetAsync("/api/v1/tokens"), HttpStatusCode.OK)).Content.ReadAsStringAsync();
        Assert.DoesNotContain(created.Token, listing);
        Assert.DoesNotContain(created.Token[Tokens.UserPrefix.Length..][..12], listing);
        var listed = JsonSerializer.Deserialize<List<TokenDto>>(listing, Json)!.Single(t => t.Id == created.Id);
        Assert.Equal("ci", listed.Name);
        Assert.True(listed.Active);
        Assert.Equal(created.Scope, listed.Scope);
        using var withIt = Http(Server, created.Token);
        await Expect(await withIt.GetAsync($"/api/v1/projects/{TokenFixture.Project}"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ScopedToken_IsRefusedWhatItsScopeLacks_ThoughTheUserHoldsIt()
    {
        using var me = Http(Server, await UserWithRoleAsync(Server, NewName("dev"), BuiltInRoles.Developer));
        var scoped = await ReadAsync<TokenCreatedDto>(await Expect(await CreateTokenAsync(me, "read-only", 1, Actions.ProjectRead), HttpStatusCode.Created));
        using var withIt = Http(Server, scoped.Token);

        await Expect(await withIt.GetAsync($"/api/v1/projects/{TokenFixture.Project}"), HttpStatusCode.OK);
        var start = await withIt.PostAsync($"/api/v1/projects/{TokenFixture.Project}/runs", Body("{}"));

        Assert.Equal(HttpStatusCode.Forbidden, start.StatusCode);
        Assert.Contains("may not run.start on project '" + TokenFixture.Project + "' (this token's scope does not include it)", await start.Content.ReadAsStringAsync());
        await Expect(await me.PostAsync($"/api/v1/projects/{TokenFixture.Project}/runs", Body("{}")), HttpStatusCode.Created);
    }

    [Fact]
    public async Task TokenScope_BeyondTheUsersPermissions_IsRefused()
    {
        using var me = Http(Server, await UserWithRoleAsync(Server, NewName("viewer"), BuiltInRoles.Viewer));

        var beyond = await CreateTokenAsync(me, "wider", 1, Actions.ProjectRead, Actions.RunStart);
        var unknown = await CreateTokenAsync(me, "odd", 1, "root.everything");
        var agentAction = await CreateTokenAsync(me, "agentish", 1, Actions.AgentWork);

        Assert.Equal(HttpStatusCode.Forbidden, beyond.StatusCode);
        Assert.Contains(Actions.RunStart, await beyond.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, agentAction.StatusCode);
    }

    [Fact]
    public async Task ScopedToken_CannotMintAWiderToken_OrAWebSession()
    {
        using var me = Http(Server, await UserWithRoleAsync(Server, NewName("dev"), BuiltInRoles.Developer));
        var scoped = await ReadAsync<TokenCreatedDto>(await Expect(
            await CreateTokenAsync(me, "narrow", 1, Actions.ProjectRead, Actions.AccountSelf, Actions.UiView), HttpStatusCode.Created));
        using var withIt = Http(Server, scoped.Token);

        // A new token asked for without a scope must not come out wider than the token asking for it.
        var minted = await CreateTokenAsync(withIt, "unscoped", 1);
        if (minted.StatusCode == HttpStatusCode.Created)
        {
            var child = await ReadAsync<TokenCreatedDto>(minted);
            Assert.NotNull(child.Scope);
            Assert.Subset(scoped.Scope!.ToHashSet(), child.Scope!.ToHashSet());
            using var withChild = Http(Server, child.Token);
            Assert.Equal(HttpStatusCode.Forbidden, (await withChild.PostAsync($"/api/v1/projects/{TokenFixture.Project}/runs", Body("{}"))).StatusCode);
        }
        else Assert.Equal(HttpStatusCode.Forbidden, minted.StatusCode);

        // Nor may a scoped token become an unscoped web session.
        using var browser = new Browser(Server);
        var signIn = await browser.SignInWithTokenAsync(scoped.Token);
        Assert.Null(browser.Session);
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
    }

    [Fact]
    public async Task ExpiredToken_Is401()
    {
        var user = NewName("old");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Admin);
        var row = (await Server.Service<UserStore>().FindAsync(user))!;
        var secret = Tokens.New(Tokens.UserPrefix);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.NotNull(await Server.Service<CredentialStore>().CreateTokenAsync(row.Id, "expired", Tokens.Hash(secret), now - 1000, null, now - 60_000));
        using var withIt = Http(Server, secret);

        var response = await withIt.GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task RevokedToken_Is401AtOnce()
    {
        using var me = Http(Server, await UserWithRoleAsync(Server, NewName("dev"), BuiltInRoles.Developer));
        var other = await ReadAsync<TokenCreatedDto>(await Expect(await CreateTokenAsync(me, "laptop", 1), HttpStatusCode.Created));
        using var withIt = Http(Server, other.Token);
        await Expect(await withIt.GetAsync("/api/v1/me"), HttpStatusCode.OK);

        await Expect(await me.DeleteAsync($"/api/v1/tokens/{other.Id}"), HttpStatusCode.NoContent);

        Assert.Equal(HttpStatusCode.Unauthorized, (await withIt.GetAsync("/api/v1/me")).StatusCode);
        var listed = (await ReadAsync<List<TokenDto>>(await me.GetAsync("/api/v1/tokens"))).Single(t => t.Id == other.Id);
        Assert.False(listed.Active);
        Assert.NotNull(listed.RevokedAt);
    }

    [Fact]
    public async Task AnotherUsersToken_CannotBeRevoked()
    {
        var victim = await LoginAsync(Server, await CreateAndGrant(NewName("vic")));
        using var attacker = Http(Server, await UserWithRoleAsync(Server, NewName("att"), BuiltInRoles.Admin));

        var response = await attacker.DeleteAsync($"/api/v1/tokens/{victim.Id}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var withIt = Http(Server, victim.Token);
        await Expect(await withIt.GetAsync("/api/v1/me"), HttpStatusCode.OK);
        var theirs = await ReadAsync<List<TokenDto>>(await attacker.GetAsync("/api/v1/tokens"));
        Assert.DoesNotContain(theirs, t => t.Id == victim.Id);
    }

    private async Task<string> CreateAndGrant(string user)
    {
        await CreateUserAsync(Server, user);
        await GrantAsync(Server, user, BuiltInRoles.Viewer);
        return user;
    }

    [Fact]
    public async Task AgentCredentialsAndRegistrationTokens_AreNotUserCredentials()
    {
        var registration = await Server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var reg = Http(Server, registration.Token);
        var registered = await Expect(await reg.PostAsync("/api/v1/agent/register",
            Body($"{{\"protocolVersion\":{Slipway.Contracts.ProtocolVersion.Current},\"name\":\"tok-agent\",\"pool\":\"build\",\"labels\":[],\"slots\":1}}")), HttpStatusCode.OK);
        var credential = JsonDocument.Parse(await registered.Content.ReadAsStringAsync()).RootElement.GetProperty("credential").GetString()!;
        Assert.StartsWith(Tokens.AgentPrefix, credential);
        using var agent = Http(Server, credential);
        using var madeUp = Http(Server, Tokens.New(Tokens.AgentPrefix));

        foreach (var client in new[] { agent, reg })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/me")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/projects")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/v1/tokens", Body(new CreateTokenRequest("x", 1, null)))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/users")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await madeUp.GetAsync("/api/v1/me")).StatusCode);
        // And they do not open a web session either.
        using var browser = new Browser(Server);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SignInWithTokenAsync(credential)).StatusCode);
        Assert.Null(browser.Session);
    }

    [Fact]
    public async Task SessionId_UsedAsABearerToken_Is401()
    {
        var user = NewName("ses");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Admin);
        using var browser = new Browser(Server);
        await Expect(await browser.SignInAsync(user, Password), HttpStatusCode.Redirect);
        using var bearer = Http(Server, browser.Session!);

        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/api/v1/users")).StatusCode);
    }
}
