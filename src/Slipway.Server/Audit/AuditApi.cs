using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Audit;

/// <summary>
/// /api/v1/audit: list and filter, verify the hash chain, export evidence. There is no endpoint that
/// changes or deletes an entry, by design.
/// </summary>
public static class AuditApi
{
    public static void MapAuditApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/audit", async ([AsParameters] AuditFilter filter, AuditStore store) =>
            (await store.QueryAsync(filter.ToQuery())).Select(e => e.ToDto())).RequireAction(Actions.AuditRead);
        api.MapGet("/audit/verify", (string? expectHead, AuditStore store, CancellationToken ct) => store.VerifyChainAsync(expectHead, ct)).RequireAction(Actions.AuditRead);
        api.MapGet("/audit/export", ExportAsync).RequireAction(Actions.AuditRead);
    }

    private static async Task ExportAsync([AsParameters] AuditFilter filter, HttpContext context, AuditStore store, CancellationToken ct)
    {
        var format = (filter.Format ?? "json").ToLowerInvariant();
        if (format is not ("csv" or "json")) throw new ArgumentException("format is csv or json");
        context.Response.ContentType = format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"slipway-audit.{format}\"";
        await using var writer = new StreamWriter(context.Response.Body, new System.Text.UTF8Encoding(false));
        var entries = store.StreamAsync(filter.ToQuery() with { Limit = int.MaxValue }, ct);
        if (format == "csv") await AuditExport.WriteCsvAsync(entries, writer, ct);
        else await AuditExport.WriteJsonArrayAsync(entries, writer, ct);
    }
}

/// <summary>Query string of the audit list and export: from/to (ISO 8601), actor, action, outcome, target (substring), routine=hide, before, limit.</summary>
public sealed class AuditFilter
{
    public DateTimeOffset? From { get; set; }
    public DateTimeOffset? To { get; set; }
    public string? Actor { get; set; }
    public string? Action { get; set; }
    public string? Outcome { get; set; }
    public string? Target { get; set; }
    public long? Before { get; set; }
    public int? Limit { get; set; }
    public string? Format { get; set; }
    /// <summary>"hide" leaves out routine entries (allowed agent traffic and reads); anything else keeps them.</summary>
    public string? Routine { get; set; }

    public AuditQuery ToQuery() => new(From?.ToUnixTimeMilliseconds(), To?.ToUnixTimeMilliseconds(), Actor, Action, Outcome, Target, Before,
        Math.Clamp(Limit ?? 100, 1, 1000), HideRoutine: Routine == "hide");
}
