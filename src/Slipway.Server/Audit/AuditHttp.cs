using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Slipway.Core.Audit;

namespace Slipway.Server.Audit;

/// <summary>Builds audit records from a request: who (principal or anonymous), from where, on what, with which request id.</summary>
public static class AuditHttp
{
    public static AuditRecord Record(HttpContext context, Principal? principal, string action, string outcome, string? detail, string? target = null) =>
        Record(principal, context.Connection.RemoteIpAddress?.ToString(), context.TraceIdentifier, action,
            target ?? $"{context.Request.Method} {context.Request.Path.Value}", outcome, detail);

    /// <summary>The record of who did what from where; the credential used ("token #3 'ci'") is added to the detail.</summary>
    public static AuditRecord Record(Principal? principal, string? address, string requestId, string action, string target, string outcome, string? detail)
    {
        var (kind, actor, via) = Actor(principal);
        return new AuditRecord(kind, actor, address, action, target, outcome, via is null ? detail : detail is null ? via : $"{detail}; {via}", requestId);
    }

    /// <summary>Records a further entry describing what an allowed action did (a grant, a token, a sign-in).</summary>
    public static Task AuditAsync(this HttpContext context, string action, string outcome, string? target, string? detail) =>
        context.RequestServices.GetRequiredService<AuditLog>().RecordAsync(Record(context, context.GetPrincipal(), action, outcome, detail, target));

    public static (string Kind, string Actor, string? Via) Actor(Principal? principal) => principal switch
    {
        Principal.User { TokenId: { } id } u => (AuditActorKinds.Token, u.Username, $"token #{id} '{u.TokenName}'"),
        Principal.User u => (AuditActorKinds.User, u.Username, null),
        Principal.Agent a => (AuditActorKinds.Agent, a.Name, null),
        Principal.RegistrationToken t => (AuditActorKinds.Agent, $"registration-token#{t.Id}", null),
        _ => (AuditActorKinds.Anonymous, "-", null),
    };
}
