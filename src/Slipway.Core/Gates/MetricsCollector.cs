using System.Text.Json;

namespace Slipway.Core.Gates;

/// <summary>
/// Accumulates the values a reader finds, enforcing the limits on untrusted input.
/// Values read from the file win over derived (canonical) ones: <see cref="Derive"/> is skipped
/// for a metric name the file itself reported, and a repeated metric+stat keeps the first value
/// (so autocannon's <c>average</c> and <c>mean</c> become one <c>avg</c>).
/// </summary>
internal sealed class MetricsCollector
{
    public const int MaxValues = 10_000;
    public const int MaxNameLength = 200;

    private readonly List<MetricValue> values = [];
    private readonly Dictionary<(string Metric, string Stat), MetricValue> byKey = [];
    private readonly HashSet<string> fileMetrics = new(StringComparer.Ordinal);

    public IReadOnlyList<MetricValue> Values => values;

    /// <summary>Adds a stat read from the file; <paramref name="rawStat"/> is normalised here.</summary>
    public void Add(string metric, string rawStat, JsonElement number, string? unit) =>
        Add(metric, StatNames.Normalise(rawStat), Number(metric, rawStat, number), unit);

    /// <summary>Adds a value the file reports, under an already normalised stat.</summary>
    public void Add(string metric, string stat, double value, string? unit)
    {
        if (metric.Length == 0 || metric.Length > MaxNameLength)
            throw new MetricsFormatException($"metric name must be 1 to {MaxNameLength} characters long");
        if (stat.Length == 0 || stat.Length > MaxNameLength)
            throw new MetricsFormatException($"metric '{metric}' has a stat name that is empty or longer than {MaxNameLength} characters");
        fileMetrics.Add(metric);
        Put(new MetricValue(metric, stat, value, unit));
    }

    /// <summary>Adds a canonical value (requests, errors, http_req_duration) unless the file has a metric of that name.</summary>
    public void Derive(string metric, string stat, double value, string? unit)
    {
        if (!fileMetrics.Contains(metric))
            Put(new MetricValue(metric, stat, value, unit));
    }

    /// <summary>Copies every stat of <paramref name="from"/> as derived values of <paramref name="to"/>.</summary>
    public void DeriveCopy(string from, string to)
    {
        foreach (var v in values.Where(v => v.Metric == from).ToList())
            Derive(to, v.Stat, v.Value, v.Unit);
    }

    public double? Get(string metric, string stat) =>
        byKey.TryGetValue((metric, stat), out var v) ? v.Value : null;

    /// <summary>Reads a JSON number, refusing strings, nulls and values outside the finite doubles.</summary>
    public static double Number(string metric, string stat, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number)
            throw new MetricsFormatException($"metric '{metric}' stat '{stat}' is not a number");
        if (!e.TryGetDouble(out var d) || !double.IsFinite(d))
            throw new MetricsFormatException($"metric '{metric}' stat '{stat}' is not a finite number");
        return d;
    }

    private void Put(MetricValue v)
    {
        if (!double.IsFinite(v.Value))
            throw new MetricsFormatException($"metric '{v.Metric}' stat '{v.Stat}' is not a finite number");
        if (!byKey.TryAdd((v.Metric, v.Stat), v)) return;
        if (values.Count >= MaxValues)
            throw new MetricsFormatException("more than 10 000 metric values"); // MaxValues, spelt for people
        values.Add(v);
    }
}
