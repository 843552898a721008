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
        api.MapGet("/audit/verify", VerifyAsync).RequireAction(Actions.AuditRead);
        api.MapGet("/audit/export", ExportAsync).RequireAction(Actions.AuditRead);
    }

    /// <param name="expectHead">A head hash recorded earlier outside the database: also detects removal of the newest entries.</param>
    internal static async Task<AuditVerificationDto> VerifyAsync(string? expectHead, AuditStore store, CancellationToken ct)
    {
        // The chain as it is now: up to the newest entry (this request's own entry, written before the endpoint ran),
        // not chasing entries appended while it is walked.
        var newest = await store.NewestSequenceAsync();
        var expected = string.IsNullOrWhiteSpace(expectHead) ? null : expectHead.Trim().ToLowerInvariant();
        // The verifier walks a synchronous cursor (one entry of look-ahead); run it off the request thread.
        var result = await Task.Run(() => AuditVerifier.Verify(store.Stream(new AuditQuery(UpToSeq: newest)), expectedHead: expected), ct);
        return new AuditVerificationDto(result.Ok, result.EntriesChecked, result.FirstBadSequence, result.Problem, result.HeadHash, result.HeadSequence,
            result.ExpectedHeadSequence, result.EntriesAfterExpectedHead);
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
