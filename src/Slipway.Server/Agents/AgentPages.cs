using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Runs;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Agents;

/// <summary>The agents page: every agent with its pool, slots and state; approve and disable.</summary>
public static class AgentPages
{
    public static void MapAgentPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/agents", async (HttpContext context, AgentStore agents) =>
            Page<AgentsPage>(context, new { Agents = (await agents.ListAsync()).Select(a => a.ToDto()).ToList() }))
            .RequirePageAction(Actions.AgentRead);
        app.MapPost("/agents/{agent}/approve", (string agent, HttpContext context, AgentService service) =>
            Act(context, "/agents", async () => { await service.SetStatusAsync(Actor.Of(context), agent, "approved"); return $"Agent '{agent}' approved."; }))
            .RequirePageAction(Actions.AgentApprove);
        app.MapPost("/agents/{agent}/disable", (string agent, HttpContext context, AgentService service) =>
            Act(context, "/agents", async () => { await service.SetStatusAsync(Actor.Of(context), agent, "disabled"); return $"Agent '{agent}' disabled."; }))
            .RequirePageAction(Actions.AgentApprove);
    }
}
