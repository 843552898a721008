using System.Text.Json;

namespace Slipway.Core.Gates;

/// <summary>
/// Reads an Artillery JSON report (<c>artillery run --output</c>): v2 keeps counters, rates and
/// summaries under <c>aggregate</c>; v1 has <c>latency</c>, <c>rps</c>, <c>codes</c> and <c>errors</c> there.
/// Only the aggregate is read; the per-period <c>intermediate</c> entries are ignored.
/// </summary>
internal static class ArtilleryReader
{
    public static bool Recognises(JsonElement root) => root.TryObject("aggregate", out _);

    public static void Read(JsonElement root, MetricsCollector c)
    {
        var aggregate = root.GetProperty("aggregate");
        if (aggregate.Has("counters") || aggregate.Has("summaries") || aggregate.Has("rates"))
            ReadV2(aggregate, c);
        else
            ReadV1(aggregate, c);
    }

    private static void ReadV2(JsonElement aggregate, MetricsCollector c)
    {
        double errors = 0;
        var anyCounter = false;
        if (aggregate.TryObject("counters", out var counters))
        {
            foreach (var counter in counters.EnumerateObject())
            {
                c.Add(counter.Name, "count", counter.Value, null);
                anyCounter = true;
                if (IsErrorCounter(counter.Name))
                    errors += c.Get(counter.Name, "count") ?? 0;
            }
        }
        if (aggregate.TryObject("rates", out var rates))
            foreach (var rate in rates.EnumerateObject())
                c.Add(rate.Name, "rate", rate.Value, "/s");
        if (aggregate.TryObject("summaries", out var summaries))
            foreach (var summary in summaries.EnumerateObject())
                ReadSummary(summary.Name, summary.Value, c);

        c.DeriveCopy("http.response_time", "http_req_duration");
        var requests = c.Get("http.requests", "count");
        if (requests is { } n) c.Derive("requests", "count", n, null);
        if (c.Get("http.request_rate", "rate") is { } r) c.Derive("requests", "rate", r, "/s");
        if (anyCounter) DeriveErrors(c, errors, requests);
    }

    private static void ReadV1(JsonElement aggregate, MetricsCollector c)
    {
        double errors = 0;
        if (aggregate.TryObject("latency", out var latency))
            ReadSummary("latency", latency, c);
        if (aggregate.TryObject("rps", out var rps))
        {
            foreach (var stat in rps.EnumerateObject())
                c.Add("rps", stat.Name, stat.Value, stat.Name == "count" ? null : "/s");
        }
        if (aggregate.TryObject("codes", out var codes))
        {
            foreach (var code in codes.EnumerateObject())
            {
                c.Add("codes." + code.Name, "count", code.Value, null);
                if (IsServerError(code.Name)) errors += c.Get("codes." + code.Name, "count") ?? 0;
            }
        }
        if (aggregate.TryObject("errors", out var errorCounts))
        {
            foreach (var error in errorCounts.EnumerateObject())
            {
                c.Add("errors." + error.Name, "count", error.Value, null);
                errors += c.Get("errors." + error.Name, "count") ?? 0;
            }
        }
        // Top-level counts such as requestsCompleted and scenariosCreated; timestamps and objects are skipped.
        foreach (var member in aggregate.EnumerateObject())
            if (member.Value.ValueKind == JsonValueKind.Number)
                c.Add(member.Name, "count", member.Value, null);

        c.DeriveCopy("latency", "http_req_duration");
        var requests = c.Get("rps", "count") ?? c.Get("requestsCompleted", "count");
        if (requests is { } n) c.Derive("requests", "count", n, null);
        if (c.Get("rps", "avg") is { } r) c.Derive("requests", "rate", r, "/s");
        if (requests is not null) DeriveErrors(c, errors, requests);
    }

    private static void ReadSummary(string name, JsonElement summary, MetricsCollector c)
    {
        summary.RequireStats(name);
        var unit = IsTime(name) ? "ms" : null;
        foreach (var stat in summary.EnumerateObject())
            c.Add(name, stat.Name, stat.Value, stat.Name == "count" ? null : unit);
    }

    private static void DeriveErrors(MetricsCollector c, double errors, double? requests)
    {
        c.Derive("errors", "count", errors, null);
        if (requests is > 0) c.Derive("errors", "rate", errors / requests.Value * 100, "%");
    }

    /// <summary>Network errors (<c>errors.*</c>) and 5xx responses count as failed requests; 4xx are the test's business.</summary>
    private static bool IsErrorCounter(string counter) =>
        counter.StartsWith("errors.", StringComparison.Ordinal)
        || (counter.StartsWith("http.codes.", StringComparison.Ordinal) && IsServerError(counter["http.codes.".Length..]));

    private static bool IsServerError(string code) => code.Length == 3 && code[0] == '5' && code.All(char.IsAsciiDigit);

    private static bool IsTime(string summary) =>
        summary.Contains("response_time", StringComparison.Ordinal)
        || summary.Contains("session_length", StringComparison.Ordinal)
        || summary.Contains("latency", StringComparison.Ordinal)
        || summary.Contains("duration", StringComparison.Ordinal);
}
