using System.Text.Json;

namespace Slipway.Core.Gates;

/// <summary>
/// Reads <c>autocannon --json</c> output. Its <c>requests</c> and <c>throughput</c> stats are per-second
/// figures except <c>total</c> and <c>sent</c>; <c>requests</c> also gets the canonical <c>count</c>
/// (= total) and <c>rate</c> (= average). Its top-level <c>errors</c> is folded into the canonical
/// <c>errors</c> metric (errors + timeouts + non2xx), so a rule on <c>errors</c> means the same everywhere.
/// </summary>
internal static class AutocannonReader
{
    private static readonly string[] Counts = ["timeouts", "non2xx", "mismatches", "resets", "1xx", "2xx", "3xx", "4xx", "5xx"];

    public static bool Recognises(JsonElement root) =>
        root.TryObject("latency", out _) && root.TryObject("requests", out _);

    public static void Read(JsonElement root, MetricsCollector c)
    {
        foreach (var stat in root.GetProperty("latency").EnumerateObject())
        {
            if (stat.Name == "totalCount") c.Add("latency", "count", MetricsCollector.Number("latency", stat.Name, stat.Value), null);
            else c.Add("latency", stat.Name, stat.Value, "ms");
        }
        ReadRates("requests", root.GetProperty("requests"), c);
        if (root.TryObject("throughput", out var throughput)) ReadRates("throughput", throughput, c);

        var total = c.Get("requests", "total");
        if (total is { } t) c.Add("requests", "count", t, null);
        if (c.Get("requests", "avg") is { } avg) c.Add("requests", "rate", avg, "/s");

        double errors = 0;
        if (root.TryGetProperty("errors", out var e)) errors += MetricsCollector.Number("errors", "count", e);
        foreach (var name in Counts)
        {
            if (!root.TryGetProperty(name, out var count)) continue;
            c.Add(name, "count", count, null);
            if (name is "timeouts" or "non2xx") errors += c.Get(name, "count") ?? 0;
        }
        if (root.TryGetProperty("duration", out var duration)) c.Add("duration", "value", duration, "s");

        c.Add("errors", "count", errors, null);
        if (total is > 0) c.Add("errors", "rate", errors / total.Value * 100, "%");
        c.DeriveCopy("latency", "http_req_duration");
    }

    private static void ReadRates(string name, JsonElement stats, MetricsCollector c)
    {
        foreach (var stat in stats.EnumerateObject())
            c.Add(name, stat.Name, stat.Value, stat.Name is "total" or "sent" ? null : "/s");
    }
}
