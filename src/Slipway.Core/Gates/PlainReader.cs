using System.Text.Json;

namespace Slipway.Core.Gates;

/// <summary>
/// Reads Slipway's own minimal format, for any tool without a reader:
/// <c>{"metrics": {"checkout_latency": {"p95": 212.4, "unit": "ms"}}}</c>.
/// Every member of a metric is a number except the optional string <c>unit</c>, which applies to all its stats.
/// </summary>
internal static class PlainReader
{
    public const int MaxUnitLength = 16;

    public static bool Recognises(JsonElement root) => root.TryObject("metrics", out _);

    public static void Read(JsonElement root, MetricsCollector c)
    {
        foreach (var metric in root.GetProperty("metrics").EnumerateObject())
        {
            var stats = metric.Value.RequireStats(metric.Name);
            var unit = UnitOf(metric.Name, stats);
            foreach (var stat in stats.EnumerateObject())
                if (stat.Name != "unit")
                    c.Add(metric.Name, stat.Name, stat.Value, unit);
        }
    }

    private static string? UnitOf(string metric, JsonElement stats)
    {
        if (!stats.TryGetProperty("unit", out var unit) || unit.ValueKind == JsonValueKind.Null) return null;
        if (unit.ValueKind != JsonValueKind.String)
            throw new MetricsFormatException($"metric '{metric}' unit is not a string");
        var text = unit.GetString()!.Trim();
        if (text.Length > MaxUnitLength)
            throw new MetricsFormatException($"metric '{metric}' unit is longer than {MaxUnitLength} characters");
        return text.Length == 0 ? null : text;
    }
}
