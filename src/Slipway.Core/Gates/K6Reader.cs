using System.Text.Json;

namespace Slipway.Core.Gates;

/// <summary>
/// Reads k6 summaries: the <c>handleSummary</c> data (<c>JSON.stringify(data)</c>, each metric has a
/// <c>values</c> object, a <c>type</c> and a <c>contains</c>) and the legacy <c>--summary-export</c>
/// (stats directly in the metric object).
/// Rate metrics (<c>http_req_failed</c>, <c>checks</c>, custom <c>Rate</c>s) are k6 fractions; they are
/// stored as a percentage under stat <c>rate</c> so that <c>checks rate &gt;= 99 %</c> reads naturally.
/// </summary>
internal static class K6Reader
{
    // Built-in k6 trends that hold milliseconds; the legacy export does not say which trends are times.
    private static readonly HashSet<string> TimeMetrics = new(StringComparer.Ordinal)
    {
        "http_req_blocked", "http_req_connecting", "http_req_tls_handshaking", "http_req_sending",
        "http_req_waiting", "http_req_receiving", "ws_connecting", "ws_ping", "grpc_req_duration",
    };

    public static bool Recognises(JsonElement root)
    {
        if (!root.TryObject("metrics", out var metrics)) return false;
        if (root.Has("root_group")) return true;
        foreach (var m in metrics.EnumerateObject())
        {
            var o = m.Value;
            if (o.TryObject("values", out _) || o.Has("type") || o.Has("contains") || o.Has("thresholds"))
                return true;
        }
        return false;
    }

    public static void Read(JsonElement root, MetricsCollector c)
    {
        foreach (var metric in root.GetProperty("metrics").EnumerateObject())
            ReadMetric(metric.Name, metric.Value, c);

        // http_req_duration is already k6's own name for the canonical latency metric.
        if (c.Get("http_reqs", "count") is { } count) c.Derive("requests", "count", count, null);
        if (c.Get("http_reqs", "rate") is { } rate) c.Derive("requests", "rate", rate, "/s");
        // A "pass" of http_req_failed is a failed request.
        if (c.Get("http_req_failed", "passes") is { } failed) c.Derive("errors", "count", failed, null);
        if (c.Get("http_req_failed", "rate") is { } failedPercent) c.Derive("errors", "rate", failedPercent, "%");
    }

    private static void ReadMetric(string name, JsonElement metric, MetricsCollector c)
    {
        metric.RequireStats(name);
        var legacy = !metric.TryObject("values", out var values);
        var stats = legacy ? metric : values;
        var type = metric.StringOf("type") ?? (legacy && stats.Has("passes") && stats.Has("fails") ? "rate" : null);
        var contains = metric.StringOf("contains");
        var isTime = contains is not null ? contains == "time" : name.EndsWith("_duration", StringComparison.Ordinal) || TimeMetrics.Contains(name);

        foreach (var stat in stats.EnumerateObject())
        {
            // Legacy exports mix thresholds (and sometimes type/contains) in with the stats.
            if (legacy && stat.Name is "thresholds" or "type" or "contains") continue;
            if (type == "rate" && stat.Name is "rate" or "value")
                c.Add(name, "rate", MetricsCollector.Number(name, stat.Name, stat.Value) * 100, "%");
            else
                c.Add(name, stat.Name, stat.Value, UnitOf(stat.Name, type, isTime));
        }
    }

    private static string? UnitOf(string stat, string? type, bool isTime) => stat switch
    {
        "count" or "passes" or "fails" => null,
        "rate" when type != "trend" => "/s",
        _ => isTime ? "ms" : null,
    };
}
