using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Runs;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Audit;

/// <summary>The audit log page: filters (routine entries hidden unless asked for), paging, export and chain verification.</summary>
public static class AuditPages
{
    public static void MapAuditPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/audit", AuditPageAsync).RequirePageAction(Actions.AuditRead);
    }

    internal static async Task<IResult> AuditPageAsync(HttpContext context, AuditStore store, CancellationToken ct)
    {
        var q = context.Request.Query;
        string? Text(string key) => q[key].ToString().Trim() is { Length: > 0 } v ? v : null;
        // Routine entries (allowed agent traffic and reads) are hidden unless asked for: changes and refusals stand out.
        var filter = new AuditFilter { Actor = Text("actor"), Action = Text("action"), Outcome = Text("outcome"), Target = Text("target"), Limit = 50,
            Routine = Text("routine") == "show" ? "show" : "hide" };
        string? error = null;
        try
        {
            filter.From = Time(Text("from"), "from");
            filter.To = Time(Text("to"), "to");
            filter.Before = Text("before") is { } b ? long.TryParse(b, out var before) ? before : throw new ArgumentException("'before' is an entry number") : null;
        }
        catch (ArgumentException e) { error = e.Message; }
        var entries = error is null ? (await store.QueryAsync(filter.ToQuery())).Select(e => e.ToDto()).ToList() : [];
        var verification = Text("verify") is not null ? await store.VerifyChainAsync(null, ct) : null;
        // The filters as typed (to show them again) and as a query string the export endpoint parses the same way.
        var inputs = AuditPage.FilterNames.Select(k => (k, v: Text(k))).Where(p => p.v is not null).ToDictionary(p => p.k, p => p.v!);
        var normalized = new Dictionary<string, string?>
        {
            ["from"] = filter.From?.ToString("o"), ["to"] = filter.To?.ToString("o"), ["actor"] = filter.Actor,
            ["action"] = filter.Action, ["outcome"] = filter.Outcome, ["target"] = filter.Target, ["routine"] = filter.Routine,
        };
        var filterQuery = string.Join('&', normalized.Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}"));
        return Page<AuditPage>(context, new
        {
            Inputs = inputs, FilterQuery = filterQuery, Entries = entries, Verification = verification, FilterError = error,
            PageSize = filter.ToQuery().Limit, Paged = filter.Before is not null,
        });

        static DateTimeOffset? Time(string? value, string what) => value is null ? null
            : DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t
            : throw new ArgumentException($"'{what}' is a date and time such as 2025-01-31 or 2025-01-31T14:00Z");
    }
}
