using System.Net;
using System.Text.Json;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using Xunit.Abstractions;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

public sealed class PathAttackFixture : IAsyncLifetime
{
    public SlipwayTestServer Server { get; private set; } = null!;
    public string ViewerToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        ViewerToken = await UserWithRoleAsync(Server, "peeker", BuiltInRoles.Viewer);
        await CreateUserAsync(Server, "someone");
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>
/// Encoded, dotted, doubled and re-cased variants of admin routes, sent byte for byte over a socket: a viewer
/// never gets a 2xx from any of them, and each answers like the canonical route (403) or not at all (404/405).
/// </summary>
public sealed class PathAttackTests(PathAttackFixture fixture, ITestOutputHelper output) : IClassFixture<PathAttackFixture>
{
    private SlipwayTestServer Server => fixture.Server;

    private const string NewUser = "{\"username\":\"intruder\",\"password\":\"correct horse battery staple\"}";
    private const string AdminGrant = "{\"role\":\"admin\"}";

    /// <summary>Variants of one path: {0} is where "users" goes, so each template is tried on every route.</summary>
    private static readonly string[] Variants =
    [
        "/api/v1/{0}",
        "/api/v1/{0}/",
        "/API/V1/{0}",
        "/Api/v1/{0}",
        "//api/v1/{0}",
        "/api//v1/{0}",
        "/api/v1/./{0}",
        "/./api/v1/{0}",
        "/api/v1/projects/x/../../{0}",
        "/api/v1/projects/x/..%2f..%2f{0}",
        "/api/v1/projects/x/..%2F..%2F{0}",
        "/api/v1/projects/x/%2e%2e/%2e%2e/{0}",
        "/api/v1/projects/x/%2E%2E/%2E%2E/{0}",
        "/api/v1/projects/x/%252e%252e/%252e%252e/{0}",
        "/api/v1/projects/x/..%252f..%252f{0}",
        "/api/v1%2f{0}",
        "/api%2fv1%2f{0}",
        "/api/v1/%2e/{0}",
        "/api/v1/{0}%2f",
        "/api/v1/{0}%00",
        "/api/v1/{0};x=1",
        "/api/v1/{0}?x=/../../projects",
        "/%61pi/v1/{0}",
        "/api/v1/\\{0}",
    ];

    public static TheoryData<string, string, string?> AdminRoutes()
    {
        var data = new TheoryData<string, string, string?>();
        foreach (var variant in Variants)
        {
            data.Add("POST", string.Format(variant, "users"), NewUser);
            data.Add("POST", string.Format(variant, "users/someone/grants"), AdminGrant);
            data.Add("GET", string.Format(variant, "audit"), null);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AdminRoutes))]
    public async Task Viewer_GetsNo2xx_FromAnyVariantOfAnAdminRoute(string method, string target, string? json)
    {
        var (status, body) = await RawAsync(Server, method, target, fixture.ViewerToken, json);
        output.WriteLine($"{method} {target} -> {status} {body}");

        Assert.False(status is >= 200 and < 300, $"{method} {target}: {status} {body}");
        // As the canonical route (403), or no route at all; only a NUL byte makes Kestrel refuse the request line (400).
        Assert.True(status is 403 or 404 or 405 || (status == 400 && target.Contains("%00")), $"{method} {target}: {status} {body}");
        if (status == 403) Assert.Contains("may not", body);
    }

    [Fact]
    public async Task NoVariant_CreatedAUserOrAGrant()
    {
        foreach (var (method, target, json) in AdminRoutes().Select(r => ((string)r[0], (string)r[1], (string?)r[2])))
            await RawAsync(Server, method, target, fixture.ViewerToken, json);

        var (status, body) = await RawAsync(Server, "GET", "/api/v1/users", SlipwayTestServer.AdminToken);
        Assert.Equal(200, status);
        var users = JsonSerializer.Deserialize<List<UserDto>>(body, Json)!;
        Assert.DoesNotContain(users, u => u.Username == "intruder");
        Assert.Empty(users.Single(u => u.Username == "someone").Grants);
    }

    [Fact]
    public async Task Admin_UsesTheCanonicalRoutes()
    {
        var created = await RawAsync(Server, "POST", "/api/v1/users", SlipwayTestServer.AdminToken,
            "{\"username\":\"newcomer\",\"password\":\"correct horse battery staple\"}");
        var granted = await RawAsync(Server, "POST", "/api/v1/users/newcomer/grants", SlipwayTestServer.AdminToken, "{\"role\":\"viewer\"}");
        var audit = await RawAsync(Server, "GET", "/api/v1/audit", SlipwayTestServer.AdminToken);

        Assert.Equal(201, created.Status);
        Assert.Equal(200, granted.Status);
        Assert.Equal(200, audit.Status);
        Assert.Contains("granted viewer", audit.Body);
    }

    [Fact]
    public async Task VariantsThatReachAnAdminEndpoint_AreDecidedAsThatEndpoint()
    {
        // These normalise to the canonical route: the viewer is refused exactly as there, and the refusal is audited.
        foreach (var target in new[] { "/api/v1/audit/", "/API/V1/AUDIT", "/api/v1/./audit", "/api/v1/projects/x/../../audit", "/api/v1/projects/x/%2e%2e/%2e%2e/audit" })
        {
            var (status, body) = await RawAsync(Server, "GET", target, fixture.ViewerToken);
            Assert.True(status == 403, $"{target}: {status} {body}");
            Assert.Contains("may not audit.read", body);
        }
    }
}
