using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Server.Access;
using Slipway.Server.Storage;

namespace Slipway.Server.Api;

/// <summary>/api/v1/agents: list agents, approve or disable them, create registration tokens.</summary>
public static class AgentsApi
{
    public static void MapAgentsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/agents", async (AgentStore agents) => (await agents.ListAsync()).Select(a => a.ToDto())).RequireAction(Actions.AgentRead);
        api.MapPost("/agents/{name}/approve", (string name, AgentStore agents) => SetStatusAsync(name, "approved", agents)).RequireAction(Actions.AgentApprove);
        api.MapPost("/agents/{name}/disable", (string name, AgentStore agents) => SetStatusAsync(name, "disabled", agents)).RequireAction(Actions.AgentApprove);
        api.MapPost("/agents/tokens", CreateTokenAsync).RequireAction(Actions.AgentTokenCreate);
    }

    private static async Task<AgentDto> SetStatusAsync(string name, string status, AgentStore agents)
    {
        if (!await agents.SetStatusAsync(name, status)) throw new KeyNotFoundException($"no agent named '{name}'");
        return (await agents.FindAsync(name))!.ToDto();
    }

    private static async Task<IResult> CreateTokenAsync(CreateRegistrationTokenRequest? request, AgentStore agents, TimeProvider clock)
    {
        var pool = string.IsNullOrWhiteSpace(request?.Pool) ? "build" : request.Pool.Trim();
        var token = Tokens.New(Tokens.RegistrationPrefix);
        var id = await agents.CreateRegistrationTokenAsync(Tokens.Hash(token), pool, request?.PreApproved ?? false, clock.GetUtcNow().ToUnixTimeMilliseconds());
        return Results.Ok(new RegistrationTokenDto(id, token, pool, request?.PreApproved ?? false));
    }
}
