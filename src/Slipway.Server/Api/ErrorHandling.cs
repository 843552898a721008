using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Slipway.Contracts.Api;
using Slipway.Core.Runs;
using Slipway.Server.Scheduling;

namespace Slipway.Server.Api;

/// <summary>
/// Turns the domain's typed errors into HTTP answers with a readable message: bad input 400, unknown
/// thing 404, invalid state transition 409. Anything else is a 500 without internals in the body.
/// </summary>
public sealed class ErrorHandling(RequestDelegate next, ILogger<ErrorHandling> log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try { await next(context); }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var (status, message) = Classify(e) ?? (500, "internal error; see the server log (request " + context.TraceIdentifier + ")");
            if (status == 500) log.LogError(e, "request {Path} failed", context.Request.Path);
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new ErrorDto(message));
        }
    }

    /// <summary>The status and message of a domain error, or null for an unexpected one (a 500). The web UI shows the same messages.</summary>
    public static (int Status, string Message)? Classify(Exception e) => e switch
    {
        ProjectException or ArgumentException or FormatException or BadHttpRequestException or InvalidDataException => (400, e.Message),
        KeyNotFoundException => (404, e.Message),
        InvalidTransitionException => (409, e.Message),
        PolicyRefusedException => (403, e.Message),
        ConflictException => (409, e.Message),
        Core.ChangeRequests.ChangeRequestTransitionException or ChangeRequests.MergeBlockedException => (409, e.Message),
        Core.Deployments.DeploymentTransitionException => (409, e.Message),
        _ => null,
    };
}

/// <summary>The request conflicts with the current state (already exists, already disabled, last admin). Answered with 409.</summary>
public sealed class ConflictException(string message) : Exception(message);
