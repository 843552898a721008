using System.Net.Http.Json;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Bench.Scale;

/// <summary>Asks the server to walk the whole audit chain (GET /api/v1/audit/verify), as `slipway audit verify` does.</summary>
public static class AuditCheck
{
    public static async Task<string> VerifyAsync(string baseUrl)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", SlipwayTestServer.AdminToken);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await http.GetFromJsonAsync<AuditVerificationDto>("/api/v1/audit/verify");
        return result is null ? "no answer"
            : $"{(result.Ok ? "valid" : "BROKEN at " + result.FirstBadSequence + ": " + result.Problem)}, {result.EntriesChecked} entries checked in {watch.Elapsed.TotalSeconds:F1} s";
    }
}
