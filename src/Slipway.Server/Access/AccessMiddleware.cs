using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Slipway.Contracts.Api;
using Slipway.Server.Storage;

namespace Slipway.Server.Access;

/// <summary>
/// Authenticates the caller and authorizes the endpoint's action, for every endpoint, before it runs.
/// An endpoint without an <see cref="ActionMetadata"/> is refused: nothing is reachable unless it is named
/// in <see cref="Actions"/>. Credentials come from <c>Authorization: Bearer</c> or, for the web UI, the
/// HttpOnly SameSite=Strict cookie set at sign-in.
/// </summary>
public sealed class AccessMiddleware(RequestDelegate next, ILogger<AccessMiddleware> log)
{
    public const string CookieName = "slipway_token";

    public async Task InvokeAsync(HttpContext context, TokenStore tokens, AgentStore agents)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null) { await next(context); return; }

        var action = endpoint.Metadata.GetMetadata<ActionMetadata>()?.Action;
        if (action is null)
        {
            log.LogError("endpoint {Endpoint} has no action in the catalogue; refused", endpoint.DisplayName);
            await Deny(context, StatusCodes.Status403Forbidden, "this endpoint is not in the action catalogue");
            return;
        }
        if (action is Actions.Public or Actions.WebhookPush) { await next(context); return; }

        var principal = await AuthenticateAsync(context, tokens, agents);
        if (principal is null)
        {
            if (action == Actions.UiView && HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.Redirect("/login?returnUrl=" + Uri.EscapeDataString(context.Request.Path + context.Request.QueryString));
                return;
            }
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Deny(context, StatusCodes.Status401Unauthorized, "a valid bearer token is required");
            return;
        }
        if (!Authorizer.IsAllowed(principal, action))
        {
            var why = principal is Principal.Agent { Status: "pending" } ? "this agent is waiting for an admin's approval" : $"{principal.Display} may not {action}";
            await Deny(context, StatusCodes.Status403Forbidden, why);
            return;
        }
        context.Items[typeof(Principal)] = principal;
        await next(context);
    }

    private static async Task<Principal?> AuthenticateAsync(HttpContext context, TokenStore tokens, AgentStore agents)
    {
        var token = BearerToken(context) ?? context.Request.Cookies[CookieName];
        if (string.IsNullOrEmpty(token) || token.Length > 200) return null;
        var hash = Tokens.Hash(token);
        if (token.StartsWith(Tokens.AgentPrefix, StringComparison.Ordinal))
        {
            var agent = await agents.FindByCredentialAsync(hash);
            if (agent is null || agent.Status == "disabled") return null;
            return new Principal.Agent(agent.Id, agent.Name, agent.Pool,
                agent.Labels.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(), agent.Status);
        }
        if (token.StartsWith(Tokens.RegistrationPrefix, StringComparison.Ordinal))
        {
            var reg = await agents.FindRegistrationTokenAsync(hash);
            return reg is null ? null : new Principal.RegistrationToken(reg.Id, reg.Pool, reg.PreApproved != 0);
        }
        var user = await tokens.FindUserByTokenAsync(hash);
        return user is null ? null : new Principal.User(user.Id, user.Username, user.IsAdmin != 0);
    }

    private static string? BearerToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    private static Task Deny(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorDto(message));
    }
}
