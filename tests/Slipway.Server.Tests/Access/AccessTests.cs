using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Slipway.Core.Access;
using Slipway.Testing;

namespace Slipway.Server.Tests.Access;

public sealed class AccessTests
{
    [Fact]
    public async Task EveryEndpoint_NamesAnActionFromTheCatalogue()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var endpoints = server.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, e =>
        {
            var action = e.Metadata.GetMetadata<ActionMetadata>();
            Assert.True(action is not null, $"{e.RoutePattern.RawText} has no action");
            Assert.Contains(action!.Action, Actions.All);
        });
        var publicOnes = endpoints.Where(e => e.Metadata.GetMetadata<ActionMetadata>()!.Action == Actions.Public)
            .Select(e => e.RoutePattern.RawText).Order().ToList();
        Assert.Equal(["/assets/{file}", "/healthz", "/login"], publicOnes);
    }

    [Theory]
    [InlineData("GET", "/api/v1/projects")]
    [InlineData("POST", "/api/v1/projects")]
    [InlineData("GET", "/api/v1/runs/1")]
    [InlineData("POST", "/api/v1/runs/1/cancel")]
    [InlineData("GET", "/api/v1/runs/1/jobs/j/log")]
    [InlineData("GET", "/api/v1/agents")]
    [InlineData("POST", "/api/v1/agent/poll")]
    [InlineData("GET", "/metrics")]
    public async Task RequestWithoutToken_Gets401(string method, string path)
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };

        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_IsOpen()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task RevokedToken_IsRefusedAtOnce()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var tokens = server.Service<CredentialStore>();
        var admin = (await server.Service<UserStore>().FindAsync("admin"))!;
        var token = Tokens.New(Tokens.UserPrefix);
        var id = (await tokens.CreateTokenAsync(admin.Id, "ci", Tokens.Hash(token), null, null, 0))!.Value;
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/projects")).StatusCode);

        Assert.True(await tokens.RevokeTokenAsync(admin.Id, id, 1));

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/projects")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "slp_made-up-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/projects")).StatusCode);
    }

    [Fact]
    public async Task AgentCredential_CannotCallUserEndpoints_AndRegistrationTokenCannotPoll()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        var registration = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registration.Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync("/api/v1/agent/poll", JsonBody("{\"freeSlots\":1,\"waitSeconds\":0}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/v1/projects")).StatusCode);

        var answer = await http.PostAsync("/api/v1/agent/register", JsonBody($"{{\"protocolVersion\":{Slipway.Contracts.ProtocolVersion.Current},\"name\":\"a1\",\"pool\":\"build\",\"labels\":[],\"slots\":1}}"));
        var credential = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("credential").GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);

        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/v1/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync("/api/v1/agent/poll", JsonBody("{\"freeSlots\":1,\"waitSeconds\":0}"))).StatusCode);
    }

    [Fact]
    public async Task Agent_WithWrongProtocolVersion_IsRefusedAtRegistration()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var registration = await server.Client.CreateAgentTokenAsync("build", preApproved: false);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registration.Token);

        var answer = await http.PostAsync("/api/v1/agent/register", JsonBody("{\"protocolVersion\":99,\"name\":\"old\",\"pool\":\"build\",\"labels\":[],\"slots\":1}"));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("protocol 99 is not supported", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NewAgent_WaitsForApproval_ThenGetsWork()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var registration = await server.Client.CreateAgentTokenAsync("build", preApproved: false);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registration.Token);
        var answer = await http.PostAsync("/api/v1/agent/register", JsonBody($"{{\"protocolVersion\":{Slipway.Contracts.ProtocolVersion.Current},\"name\":\"newbie\",\"pool\":\"build\",\"labels\":[],\"slots\":1}}"));
        var body = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("pending", body.GetProperty("status").GetString());
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("credential").GetString());

        var refused = await http.PostAsync("/api/v1/agent/poll", JsonBody("{\"freeSlots\":1,\"waitSeconds\":0}"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("waiting for an admin's approval", await refused.Content.ReadAsStringAsync());

        await server.Client.ApproveAgentAsync("newbie");
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync("/api/v1/agent/poll", JsonBody("{\"freeSlots\":1,\"waitSeconds\":0}"))).StatusCode);
    }

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");
}
