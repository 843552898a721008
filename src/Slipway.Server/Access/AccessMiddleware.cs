using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Access;

/// <summary>
/// The single path every request takes before an endpoint runs: find the endpoint's action in the catalogue
/// (none: refused), authenticate, resolve the scope (project) the action is aimed at, decide, and write the
/// audit entry — allowed or denied — before the endpoint runs (write-ahead: an action whose entry cannot be
/// committed does not happen). Authorization is decided on the matched endpoint, never on the raw path, so
/// encoded or dotted variants of a URL get the same answer as the route they match.
/// Requests authenticated by the session cookie must carry the anti-forgery token on every state change.
/// </summary>
public sealed class AccessMiddleware(RequestDelegate next)
{
    /// <summary>The Cache-Control of every allowed answer: never stored; "no-cache" too, as antiforgery requires of pages with a token.</summary>
    public const string NoStore = "no-cache, no-store";

    public async Task InvokeAsync(HttpContext context, Authenticator authenticator, AuditLog audit, HeartbeatDenials heartbeatDenials, RunStore runs,
        IAntiforgery antiforgery)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null) { await next(context); return; }
        context.Response.Headers["X-Request-Id"] = context.TraceIdentifier;

        var action = endpoint.Metadata.GetMetadata<ActionMetadata>()?.Action;
        if (action is null)
        {
            await RecordAsync(context, audit, null, "uncatalogued", AuditOutcomes.Denied, "endpoint is not in the action catalogue");
            await Deny(context, StatusCodes.Status403Forbidden, "this endpoint is not in the action catalogue");
            return;
        }
        var info = Actions.Get(action);
        if (info.Kind == ActionKind.Public)
        {
            await next(context);
            // A webhook proves itself inside the endpoint (signature); record what it decided.
            if (action == Actions.WebhookPush)
                await RecordAsync(context, audit, null, action,
                    context.Response.StatusCode < 400 ? AuditOutcomes.Allowed : AuditOutcomes.Denied, $"status {context.Response.StatusCode}");
            return;
        }

        var principal = await authenticator.AuthenticateAsync(context);
        if (principal is null)
        {
            // Says which: nothing sent, or the credential sent is unknown, expired, revoked or its user disabled.
            var why = await authenticator.WhyRefusedAsync(context);
            var record = AuditHttp.Record(context, null, action, AuditOutcomes.Denied, "no valid credential: " + why);
            if (action == Actions.AgentHeartbeat)
                await heartbeatDenials.RecordAsync(Authenticator.PresentedCredential(context) is { } sent ? "credential:" + Tokens.Hash(sent)
                    : "anonymous:" + record.Source, record);
            else await audit.RecordAsync(record);
            if (endpoint.Metadata.GetMetadata<UiPageMetadata>() is not null && HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.Redirect("/login?returnUrl=" + Uri.EscapeDataString(context.Request.Path + context.Request.QueryString));
                return;
            }
            // git asks for (or sends) its credentials only when offered Basic.
            context.Response.Headers.WWWAuthenticate = context.Request.Path.StartsWithSegments("/git")
                ? "Basic realm=\"slipway\"" : "Bearer";
            await Deny(context, StatusCodes.Status401Unauthorized, why);
            return;
        }

        // The anti-forgery system binds its tokens to the signed-in identity: a token minted for one user (or for
        // nobody, e.g. by a cookie planted from a sibling subdomain) does not validate for another.
        if (principal is Principal.User signedIn)
            BindAntiforgery(context, signedIn);

        if (principal is Principal.User { ViaSession: true } && !IsSafeMethod(context.Request.Method)
            && !await antiforgery.IsRequestValidAsync(context))
        {
            await RecordAsync(context, audit, principal, action, AuditOutcomes.Denied, "missing or invalid anti-forgery token");
            await Deny(context, StatusCodes.Status400BadRequest, "missing or invalid anti-forgery token; reload the page", principal);
            return;
        }

        var scope = await ScopeAsync(context, info, runs);
        var decision = Authorizer.Decide(principal, action, scope);
        if (!decision.Allowed && action == Actions.AgentHeartbeat && principal is Principal.Agent)
            // An agent waiting for approval polls on: its refusals are folded like those of a refused credential.
            await heartbeatDenials.RecordAsync($"{principal.Display}@{context.Connection.RemoteIpAddress}",
                AuditHttp.Record(context, principal, action, AuditOutcomes.Denied, decision.Reason));
        else if (!decision.Allowed || !info.AuditDenialsOnly)
            await RecordAsync(context, audit, principal, action, decision.Allowed ? AuditOutcomes.Allowed : AuditOutcomes.Denied, decision.Reason);
        if (!decision.Allowed)
        {
            // A project the user may not even read is answered as one that does not exist, with the same words: a
            // refusal would tell them which names exist (GitLab does the same). The audit entry keeps the real reason.
            if (principal is Principal.User user && scope is { Project: { } project, Shown: null }
                && !user.Permissions.MayKnowOf(project))
            {
                await Deny(context, StatusCodes.Status404NotFound, ProjectStore.NoSuchProject(project), principal);
                return;
            }
            await Deny(context, StatusCodes.Status403Forbidden, decision.Reason!, principal);
            return;
        }
        context.Items[typeof(Principal)] = principal;
        // What a signed-in caller sees is theirs: no shared or browser cache keeps it. The value is the one antiforgery
        // sets on every page carrying a token: any other (plain "no-store") makes it log a warning per page view.
        context.Response.Headers.CacheControl = NoStore;
        await next(context);
    }

    /// <summary>The project a project-scoped action is aimed at: a route's {name}, or the project of a run {id}.</summary>
    private static async Task<Scope> ScopeAsync(HttpContext context, ActionInfo info, RunStore runs)
    {
        if (info.Scope != ActionScope.Project) return Scope.Server;
        var values = context.GetRouteData().Values;
        if (values.TryGetValue("name", out var name) && name is string project)
            return values.TryGetValue("env", out var env) && env is string environment ? new Scope(project, environment)
                // Deploying, approving and signing off can be granted per environment; these endpoints check the exact one themselves.
                : info.Name is Actions.DeploymentStart or Actions.DeploymentApprove or Actions.ReleaseSignOff ? Scope.ForAnyEnvironment(project)
                : Scope.ForProject(project);
        if (values.TryGetValue("id", out var id) && long.TryParse(id?.ToString(), out var runId))
            // A run that does not exist belongs to no project: only a global grant reaches it (and gets the 404),
            // so a user granted one project cannot probe which run ids exist in others.
            return new Scope(await runs.ProjectNameOfRunAsync(runId) ?? "\0no such run", Shown: $"run {runId}");
        return Scope.Server;
    }

    /// <summary>Names the signed-in user on the request, which is what the anti-forgery tokens of its answer are bound to.</summary>
    public static void BindAntiforgery(HttpContext context, Principal.User user) =>
        context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user.Username)], "slipway"));

    private static bool IsSafeMethod(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    private static Task RecordAsync(HttpContext context, AuditLog audit, Principal? principal, string action, string outcome, string? detail) =>
        audit.RecordAsync(AuditHttp.Record(context, principal, action, outcome, detail));

    /// <summary>JSON for the API; a browser asking for a UI page gets the refusal as an HTML page in the site's frame.</summary>
    private static Task Deny(HttpContext context, int status, string message, Principal? principal = null) =>
        ErrorHandling.WriteAsync(context, status, message, principal);
}
