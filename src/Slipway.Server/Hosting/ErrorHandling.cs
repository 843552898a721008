using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slipway.Contracts.Api;
using Slipway.Core.Runs;

namespace Slipway.Server.Hosting;

/// <summary>
/// Turns the domain's typed errors into HTTP answers with a readable message: bad input 400, unknown
/// thing 404, invalid state transition 409. Anything else is a 500 without internals in the body.
/// Every error answer goes through <see cref="WriteAsync"/>: JSON for the API, scripts and tools; the HTML error page
/// for a browser asking for a UI page, so nobody opening a page meets a raw JSON body.
/// </summary>
public sealed class ErrorHandling(RequestDelegate next, ILogger<ErrorHandling> log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            // An address no route matches: a browser gets the site's "not found" page rather than an empty answer.
            if (context.Response is { StatusCode: StatusCodes.Status404NotFound, HasStarted: false } && context.GetEndpoint() is null
                && HttpMethods.IsGet(context.Request.Method) && AcceptsHtml(context.Request)
                && !context.Request.Path.StartsWithSegments("/api") && !context.Request.Path.StartsWithSegments("/git"))
                await NoPageAsync(context);
            // An API address no route matches: say so in the API's error shape, not with an empty body.
            else if (context.Response is { StatusCode: StatusCodes.Status404NotFound, HasStarted: false } && context.GetEndpoint() is null
                     && context.Request.Path.StartsWithSegments("/api"))
                await context.Response.WriteAsJsonAsync(new ErrorDto($"no API endpoint at {context.Request.Method} {context.Request.Path}: see docs/api.md"));
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var (status, message) = Classify(e) ?? (500, "internal error; see the server log (request " + context.TraceIdentifier + ")");
            if (status == 500) log.LogError(e, "request {Path} failed", context.Request.Path);
            await WriteAsync(context, status, message);
        }
    }

    /// <summary>
    /// The "not found" page for an address no route matches. No endpoint means the access middleware did not run, so the
    /// visitor is recognised here: a signed-in user keeps the site's navigation (and a sign-out form whose anti-forgery
    /// token is bound to them, hence <c>context.User</c>); anyone else gets the bare page. Only a browser's session counts
    /// here: a request carrying a token (a script) is not authenticated on an address that is not an endpoint, where no
    /// audit entry would record a refused credential.
    /// </summary>
    private static async Task NoPageAsync(HttpContext context)
    {
        var browser = context.Request.Headers.Authorization.Count == 0 && context.Request.Cookies.ContainsKey(Authenticator.SessionCookie);
        var user = browser ? await context.RequestServices.GetRequiredService<Authenticator>().AuthenticateAsync(context) as Principal.User : null;
        if (user is not null)
            AccessMiddleware.BindAntiforgery(context, user);
        await WebUi.ErrorPageAsync(context, StatusCodes.Status404NotFound, $"There is no page at {context.Request.Path}.", user);
    }

    /// <summary>
    /// Answers with an error: the HTML error page (in the site's frame, with a way back) when a browser asked for a UI page,
    /// else <see cref="ErrorDto"/> as JSON. <paramref name="principal"/> is who asked, when known before the endpoint ran.
    /// </summary>
    public static Task WriteAsync(HttpContext context, int status, string message, Principal? principal = null)
    {
        context.Response.StatusCode = status;
        return WantsPage(context)
            ? WebUi.ErrorPageAsync(context, status, message, principal ?? context.GetPrincipal())
            : context.Response.WriteAsJsonAsync(new ErrorDto(message));
    }

    /// <summary>
    /// A UI endpoint asked for by a browser (navigation or form: Accept names text/html). The pages' own scripts and
    /// forced fetches send no such header and keep getting JSON.
    /// </summary>
    private static bool WantsPage(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<UiPageMetadata>() is not null && AcceptsHtml(context.Request);

    private static bool AcceptsHtml(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    /// <summary>The status and message of a domain error, or null for an unexpected one (a 500). The web UI shows the same messages.</summary>
    public static (int Status, string Message)? Classify(Exception e) => e switch
    {
        ProjectException or ArgumentException or FormatException or BadHttpRequestException or InvalidDataException => (400, e.Message),
        KeyNotFoundException => (404, e.Message),
        InvalidTransitionException => (409, e.Message),
        PolicyRefusedException => (403, e.Message),
        ConflictException => (409, e.Message),
        LockBusyException => (503, e.Message),
        Core.ChangeRequests.ChangeRequestTransitionException or ChangeRequests.MergeBlockedException => (409, e.Message),
        Core.Deployments.DeploymentTransitionException => (409, e.Message),
        _ => null,
    };
}

/// <summary>The request conflicts with the current state (already exists, already disabled, last admin). Answered with 409.</summary>
public sealed class ConflictException(string message) : Exception(message);
