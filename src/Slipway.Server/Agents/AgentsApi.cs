using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Agents;

/// <summary>/api/v1/agents: list agents, approve, disable or remove them, create registration tokens.</summary>
public static class AgentsApi
{
    public static void MapAgentsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/agents", async (AgentStore agents) => (await agents.ListAsync()).Select(a => a.ToDto())).RequireAction(Actions.AgentRead);
        api.MapPost("/agents/{name}/approve", (string name, HttpContext context, AgentStore agents) => SetStatusAsync(name, "approved", context, agents)).RequireAction(Actions.AgentApprove);
        api.MapPost("/agents/{name}/disable", (string name, HttpContext context, AgentStore agents) => SetStatusAsync(name, "disabled", context, agents)).RequireAction(Actions.AgentApprove);
        api.MapDelete("/agents/{name}", RemoveAsync).RequireAction(Actions.AgentApprove);
        api.MapPost("/agents/tokens", CreateTokenAsync).RequireAction(Actions.AgentTokenCreate);
    }

    internal static async Task<AgentDto> SetStatusAsync(string name, string status, HttpContext context, AgentStore agents)
    {
        if (!await agents.SetStatusAsync(name, status)) throw new KeyNotFoundException($"no agent named '{name}'");
        await context.AuditAsync(Actions.AgentApprove, AuditOutcomes.Succeeded, $"agent:{name}", $"agent {status}");
        return (await agents.FindAsync(name))!.ToDto();
    }

    /// <summary>Removes an agent so its name can be registered again: refused while it runs jobs.</summary>
    private static async Task<IResult> RemoveAsync(string name, HttpContext context, AgentStore agents)
    {
        var outcome = await agents.RemoveAsync(name) ?? throw new KeyNotFoundException($"no agent named '{name}'");
        if (!outcome.Removed)
        {
            var refusal = $"agent '{name}' is running {outcome.RunningJobs} job(s): disable it first (slipway agent disable {name}), " +
                          "let its jobs end or cancel their runs, then remove it";
            await context.AuditAsync(Actions.AgentApprove, AuditOutcomes.Failed, $"agent:{name}", "not removed: " + refusal);
            throw new ConflictException(refusal);
        }
        await context.AuditAsync(Actions.AgentApprove, AuditOutcomes.Succeeded, $"agent:{name}", "agent removed: its credential no longer works and its name is free");
        return Results.NoContent();
    }

    private static async Task<IResult> CreateTokenAsync(CreateRegistrationTokenRequest? request, HttpContext context, AgentStore agents, TimeProvider clock)
    {
        var pool = string.IsNullOrWhiteSpace(request?.Pool) ? "build" : request.Pool.Trim();
        var token = Tokens.New(Tokens.RegistrationPrefix);
        var id = await agents.CreateRegistrationTokenAsync(Tokens.Hash(token), pool, request?.PreApproved ?? false, clock.GetUtcNow().ToUnixTimeMilliseconds());
        await context.AuditAsync(Actions.AgentTokenCreate, AuditOutcomes.Succeeded, $"registration-token:{id}",
            $"agent registration token for pool '{pool}'" + (request?.PreApproved == true ? ", pre-approved" : ""));
        return Results.Ok(new RegistrationTokenDto(id, token, pool, request?.PreApproved ?? false));
    }
}
