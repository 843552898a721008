using System.Net;
using System.Net.Http.Headers;
using Microsoft.Data.Sqlite;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>One server for the sign-in tests that do not count failures against the shared loopback address.</summary>
public sealed class SignInFixture : IAsyncLifetime
{
    public SlipwayTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await SlipwayTestServer.StartAsync(o =>
    {
        o.EmbeddedAgent = false;
        o.SignInFailuresPerAddress = 10_000;
    });

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

public sealed class SignInTests(SignInFixture fixture) : IClassFixture<SignInFixture>
{
    private SlipwayTestServer Server => fixture.Server;

    private static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task PasswordSignIn_SetsAnHttpOnlySessionCookie_ThatIsNotAnApiToken()
    {
        var user = NewName("ann");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Viewer);
        using var browser = new Browser(Server);

        var response = await browser.SignInAsync(user, Password);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var setCookie = string.Join("\n", response.Headers.GetValues("Set-Cookie"));
        Assert.Contains("slipway_session=", setCookie);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("slps_", browser.Session);
        var me = await ReadAsync<MeDto>(await Expect(await browser.Http.GetAsync("/api/v1/me"), HttpStatusCode.OK));
        Assert.Equal(user, me.Username);
        Assert.Null(me.Token);
        // The session id is not an API token.
        using var bearer = Http(Server, browser.Session);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task WrongPassword_Is401_AndAudited()
    {
        var user = NewName("bob");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Viewer);
        using var browser = new Browser(Server);

        var response = await browser.SignInAsync(user, "not the password at all");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(browser.Session);
        Assert.Contains(await AuditAsync(Server, $"actor={user}&action={Actions.SessionCreate}&outcome={AuditOutcomes.Denied}"),
            e => e.Detail == "wrong password");
    }

    [Fact]
    public async Task SignInForm_WithoutTheAntiforgeryToken_IsRefused()
    {
        var user = NewName("cy");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Viewer);
        using var browser = new Browser(Server);

        var response = await browser.SignInAsync(user, Password, withAntiforgery: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(browser.Session);
        // A page the browser can use: the sign-in form again, saying why.
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("The sign-in form had expired or did not come from this site (anti-forgery check); sign in again.", page);
        Assert.Contains("name=\"__RequestVerificationToken\"", page);
    }

    [Fact]
    public async Task SessionCookie_WithoutTheAntiforgeryHeader_CannotChangeState()
    {
        var user = NewName("dee");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Developer);
        using var browser = new Browser(Server);
        await Expect(await browser.SignInAsync(user, Password), HttpStatusCode.Redirect);

        // A cross-site form or fetch carries the cookie but cannot read the anti-forgery token.
        var tokenWithout = await browser.PostJsonAsync("/api/v1/tokens", new CreateTokenRequest("forged", 1, null), withAntiforgeryHeader: false);
        var logoutWithout = await browser.Http.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));

        Assert.Equal(HttpStatusCode.BadRequest, tokenWithout.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, logoutWithout.StatusCode);
        Assert.Contains(await AuditAsync(Server, $"actor={user}&outcome={AuditOutcomes.Denied}"), e => e.Detail!.Contains("anti-forgery"));
        await Expect(await browser.Http.GetAsync("/api/v1/me"), HttpStatusCode.OK); // still signed in

        var tokenWith = await browser.PostJsonAsync("/api/v1/tokens", new CreateTokenRequest("from-ui", 1, null), withAntiforgeryHeader: true);
        await Expect(tokenWith, HttpStatusCode.Created);
    }

    [Fact]
    public async Task Logout_RevokesTheSession_SoTheOldCookieIsRefused()
    {
        var user = NewName("eve");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Viewer);
        using var browser = new Browser(Server);
        await Expect(await browser.SignInAsync(user, Password), HttpStatusCode.Redirect);
        var session = browser.Session!;

        var logout = await browser.Http.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = await browser.AntiforgeryTokenAsync(),
        }));

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal("/login", logout.Headers.Location?.OriginalString);
        using var replay = Http(Server);
        replay.DefaultRequestHeaders.Add("Cookie", $"slipway_session={session}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync("/api/v1/me")).StatusCode);
        var page = await replay.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task DisablingAUser_EndsTheirOpenSession_AndTheirApiToken()
    {
        var user = NewName("fay");
        var token = await UserWithRoleAsync(Server, user, BuiltInRoles.Developer);
        using var browser = new Browser(Server);
        await Expect(await browser.SignInAsync(user, Password), HttpStatusCode.Redirect);
        using var api = Http(Server, token);
        await Expect(await browser.Http.GetAsync("/api/v1/me"), HttpStatusCode.OK);
        await Expect(await api.GetAsync("/api/v1/me"), HttpStatusCode.OK);

        using (var admin = Admin(Server))
            await Expect(await admin.PostAsync($"/api/v1/users/{user}/disable", null), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.Http.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.Http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/me")).StatusCode);
        // Nor can they sign in again.
        using var again = new Browser(Server);
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.SignInAsync(user, Password)).StatusCode);
    }

    [Fact]
    public async Task StoredPasswordHash_IsASaltedIdentityV3Hash_NotThePassword()
    {
        var first = NewName("gil");
        var second = NewName("hal");
        await CreateUserAsync(Server, first);
        await CreateUserAsync(Server, second);

        var hashes = new List<string>();
        using (var db = new SqliteConnection($"Data Source={Path.Combine(Server.Options.FullDataDirectory, "slipway.db")};Mode=ReadOnly;Pooling=False"))
        {
            db.Open();
            foreach (var user in new[] { first, second })
            {
                using var command = db.CreateCommand();
                command.CommandText = "SELECT password_hash FROM users WHERE username = $u";
                command.Parameters.AddWithValue("$u", user);
                hashes.Add((string)command.ExecuteScalar()!);
            }
        }

        Assert.All(hashes, hash =>
        {
            Assert.DoesNotContain(Password, hash);
            Assert.StartsWith("AQAAAA", hash); // base64 of the format marker 0x01 and the PRF id
            var bytes = Convert.FromBase64String(hash);
            Assert.Equal(0x01, bytes[0]);
            Assert.True(bytes.Length >= 13 + 16 + 32, "version, PRF, iterations, salt length, salt and subkey");
        });
        Assert.NotEqual(hashes[0], hashes[1]); // same password, different salts
    }

    [Fact]
    public async Task BootstrapAdmin_SignsInWithTheApiToken_AndGetsASessionIdNotTheToken()
    {
        using var browser = new Browser(Server);

        var response = await browser.SignInWithTokenAsync(SlipwayTestServer.AdminToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain(SlipwayTestServer.AdminToken, string.Join("\n", response.Headers.GetValues("Set-Cookie")));
        Assert.StartsWith("slps_", browser.Session);
        Assert.NotEqual(SlipwayTestServer.AdminToken, browser.Session);
        var me = await ReadAsync<MeDto>(await Expect(await browser.Http.GetAsync("/api/v1/me"), HttpStatusCode.OK));
        Assert.Equal("admin", me.Username);
        Assert.Null(me.Token); // a session, not the token
        await Expect(await browser.Http.GetAsync("/"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task BruteForce_OnOneAccount_Is429WithRetryAfter_EvenWithTheRightPassword()
    {
        var user = NewName("ivy");
        await UserWithRoleAsync(Server, user, BuiltInRoles.Viewer);
        using var http = Http(Server);
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/api/v1/auth/login",
                Body(new LoginRequest(user, "wrong password " + i, null, null)))).StatusCode);

        var api = await http.PostAsync("/api/v1/auth/login", Body(new LoginRequest(user, Password, null, null)));
        using var browser = new Browser(Server);
        var form = await browser.SignInAsync(user, Password);

        foreach (var response in new[] { api, form })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            var retry = response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero;
            Assert.InRange(retry.TotalSeconds, 1, 15 * 60);
        }
        Assert.Null(browser.Session);
        Assert.Contains(await AuditAsync(Server, $"actor={user}&action={Actions.SessionCreate}&outcome={AuditOutcomes.Denied}"),
            e => e.Detail!.StartsWith("throttled"));
        // Other accounts from the same address are not locked by it.
        var other = NewName("jon");
        await UserWithRoleAsync(Server, other, BuiltInRoles.Viewer);
    }

    [Fact]
    public async Task AnAdminWhoSetsTheThrottledUsersPassword_LetsThemSignInAtOnce_AndARestartForgetsNothing()
    {
        using var data = new TempDirectory();
        var user = NewName("kim");
        await using (var first = await SlipwayTestServer.StartAsync(o => { o.EmbeddedAgent = false; o.SignInFailuresPerAddress = 10_000; }, data.Path))
        {
            await UserWithRoleAsync(first, user, BuiltInRoles.Viewer);
            using var http = Http(first);
            for (var i = 0; i < 5; i++)
                await http.PostAsync("/api/v1/auth/login", Body(new LoginRequest(user, "wrong password " + i, null, null)));
        }
        // The failures are in the database: a restart does not hand out five more guesses.
        await using var server = await SlipwayTestServer.StartAsync(o => { o.EmbeddedAgent = false; o.SignInFailuresPerAddress = 10_000; }, data.Path);
        using var again = Http(server);
        Assert.Equal(HttpStatusCode.TooManyRequests,
            (await again.PostAsync("/api/v1/auth/login", Body(new LoginRequest(user, Password, null, null)))).StatusCode);

        const string NewPassword = "a fresh password for kim 42";
        await server.Client.SetUserPasswordAsync(user, NewPassword);
        Assert.Equal(HttpStatusCode.OK,
            (await again.PostAsync("/api/v1/auth/login", Body(new LoginRequest(user, NewPassword, null, null)))).StatusCode);
    }

    [Fact]
    public async Task BruteForce_FromOneAddress_AcrossUsernames_Is429AfterTwentyFailures()
    {
        // Its own server: the per-address count is shared by every test calling from the loopback address.
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await UserWithRoleAsync(server, "victim", BuiltInRoles.Viewer);
        using var http = Http(server);
        for (var i = 0; i < 20; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/api/v1/auth/login",
                Body(new LoginRequest($"guess{i}", "wrong password", null, null)))).StatusCode);

        var response = await http.PostAsync("/api/v1/auth/login", Body(new LoginRequest("victim", Password, null, null)));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        Assert.Contains(await AuditAsync(server, $"actor=victim&outcome={AuditOutcomes.Denied}"), e => e.Detail!.StartsWith("throttled"));
    }
}
