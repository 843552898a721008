using System.Text.Json;

namespace Slipway.Core.Gates;

/// <summary>Small lookups that keep the readers free of ValueKind checks.</summary>
internal static class JsonShape
{
    public static bool TryObject(this JsonElement e, string name, out JsonElement child)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out child) && child.ValueKind == JsonValueKind.Object)
            return true;
        child = default;
        return false;
    }

    public static string? StringOf(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    public static bool Has(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out _);

    /// <summary>Returns <paramref name="e"/> if it is an object, else fails with an error naming the metric.</summary>
    public static JsonElement RequireStats(this JsonElement e, string metric) =>
        e.ValueKind == JsonValueKind.Object
            ? e
            : throw new MetricsFormatException($"metric '{metric}' is not an object of stats");
}
