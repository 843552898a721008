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

/// <summary>The agents page: every agent with its pool, slots and state; approve and disable; new registration tokens.</summary>
public static class AgentPages
{
    public static void MapAgentPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/agents", async (HttpContext context, AgentStore agents, AgentService service) =>
        {
            var managesTokens = context.RequireUser().Permissions.Can(Actions.AgentTokenCreate);
            return Page<AgentsPage>(context, new
            {
                Agents = (await agents.ListAsync()).Select(a => a.ToDto()).ToList(),
                NewestToken = managesTokens ? await agents.NewestRegistrationTokenIdAsync() : 0,
                Tokens = managesTokens ? await service.ListTokensAsync() : [],
            });
        }).RequirePageAction(Actions.AgentRead);
        app.MapPost("/agents/tokens/{id:long}/revoke", (long id, HttpContext context, AgentService service) => Act(context, "/agents", async () =>
        {
            var revoked = await service.RevokeTokenAsync(Actor.Of(context), id);
            return $"Registration token #{revoked.Id} (pool {revoked.Pool}) revoked: it admits no agent from now on. Agents it registered keep working.";
        })).RequirePageAction(Actions.AgentTokenCreate);
        // Not post/redirect/get on success: the answer carries the new token, shown once, which must never be in an address.
        // The form carries the id of the newest token the page was shown with: the browser sending it again on a reload of
        // the answer is refused (the token it made is newer), so a reload never mints a token nobody saw.
        app.MapPost("/agents/tokens", (HttpContext context, AgentService service) => AnswerOnce(context, "/agents", async form =>
        {
            var newest = long.TryParse(Optional(form, "newest"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
                ? n : throw new ArgumentException("the form lacks the mark of the tokens it was shown with: reload the agents page");
            var days = Optional(form, "expiresInDays") is { } d
                ? int.TryParse(d, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
                    ? parsed : throw new ArgumentException("the expiry is a whole number of days (0: never)")
                : (int?)null;
            var request = new CreateRegistrationTokenRequest(Optional(form, "pool") ?? "build", Checked(form, "preApproved"), Optional(form, "agentName"), days);
            var created = await service.CreateTokenAsync(Actor.Of(context), request, newest);
            context.Response.Headers.CacheControl = Access.AccessMiddleware.NoStore;
            return Page<AgentTokenPage>(context, new { Created = created, AgentName = request.AgentName, Server = ServerAddress(context) });
        })).RequirePageAction(Actions.AgentTokenCreate);
        app.MapPost("/agents/{agent}/approve", (string agent, HttpContext context, AgentService service) =>
            Act(context, "/agents", async () => { await service.SetStatusAsync(Actor.Of(context), agent, "approved"); return $"Agent '{agent}' approved."; }))
            .RequirePageAction(Actions.AgentApprove);
        app.MapPost("/agents/{agent}/disable", (string agent, HttpContext context, AgentService service) =>
            Act(context, "/agents", async () => { await service.SetStatusAsync(Actor.Of(context), agent, "disabled"); return $"Agent '{agent}' disabled."; }))
            .RequirePageAction(Actions.AgentApprove);
    }
}
