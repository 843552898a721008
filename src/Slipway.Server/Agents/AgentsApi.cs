using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Agents;

/// <summary>/api/v1/agents: list agents, approve, disable or remove them, create registration tokens; an adapter over <see cref="AgentService"/>.</summary>
public static class AgentsApi
{
    public static void MapAgentsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/agents", async (AgentStore agents) => (await agents.ListAsync()).Select(a => a.ToDto())).RequireAction(Actions.AgentRead);
        api.MapPost("/agents/{name}/approve", (string name, HttpContext context, AgentService service) =>
            service.SetStatusAsync(Actor.Of(context), name, "approved")).RequireAction(Actions.AgentApprove);
        api.MapPost("/agents/{name}/disable", (string name, HttpContext context, AgentService service) =>
            service.SetStatusAsync(Actor.Of(context), name, "disabled")).RequireAction(Actions.AgentApprove);
        api.MapDelete("/agents/{name}", async (string name, HttpContext context, AgentService service) =>
        {
            await service.RemoveAsync(Actor.Of(context), name);
            return Results.NoContent();
        }).RequireAction(Actions.AgentApprove);
        api.MapPost("/agents/tokens", async (CreateRegistrationTokenRequest? request, HttpContext context, AgentService service) =>
            Results.Ok(await service.CreateTokenAsync(Actor.Of(context), request))).RequireAction(Actions.AgentTokenCreate);
        api.MapGet("/agents/tokens", (AgentService service) => service.ListTokensAsync()).RequireAction(Actions.AgentTokenCreate);
        api.MapPost("/agents/tokens/{id:long}/revoke", (long id, HttpContext context, AgentService service) =>
            service.RevokeTokenAsync(Actor.Of(context), id)).RequireAction(Actions.AgentTokenCreate);
    }
}
