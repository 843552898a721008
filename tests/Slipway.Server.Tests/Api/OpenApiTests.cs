using System.Net;
using System.Text.Json;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Api;

/// <summary>The REST API's OpenAPI document: served to signed-in users, generated from the real endpoints, /api/v1 only.</summary>
public sealed class OpenApiTests
{
    [Fact]
    public async Task SignedInUsers_GetTheApiDescription_OfTheRestApiOnly_AndAnonymousCallersGet401()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var anonymous = new HttpClient { BaseAddress = new Uri(server.Url) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/openapi.json")).StatusCode);

        var viewerToken = await UserWithRoleAsync(server, "vera", "viewer", null);
        using var viewer = new HttpClient { BaseAddress = new Uri(server.Url) };
        viewer.DefaultRequestHeaders.Authorization = new("Bearer", viewerToken);
        var response = await viewer.GetAsync("/api/v1/openapi.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString());
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/projects", paths);
        Assert.Contains(paths, p => p.StartsWith("/api/v1/projects/{name}/runs", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.Contains("/deployments", StringComparison.Ordinal));
        Assert.All(paths, p => Assert.StartsWith("/api/v1/", p)); // no web pages, git or metrics
    }
}
