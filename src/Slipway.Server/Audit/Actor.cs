using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Slipway.Server.Audit;

/// <summary>
/// Who asks a feature's service for something, as the service needs it: the signed-in user (their permissions decide),
/// and where the request came from for the audit entries the service writes. Endpoints and pages make one from the
/// request (<see cref="Of"/>); services never see the HTTP request itself.
/// </summary>
public sealed record Actor(Principal.User User, string? Address, string RequestId, AuditLog Audit)
{
    public static Actor Of(HttpContext context) =>
        new(context.RequireUser(), context.Connection.RemoteIpAddress?.ToString(), context.TraceIdentifier, context.RequestServices.GetRequiredService<AuditLog>());

    /// <summary>Records what this actor did (or was refused) on <paramref name="target"/>.</summary>
    public Task AuditAsync(string action, string outcome, string target, string? detail) =>
        Audit.RecordAsync(AuditHttp.Record(User, Address, RequestId, action, target, outcome, detail));
}
