namespace Slipway.Core.Gates;

/// <summary>
/// One measured figure of a load test, e.g. <c>http_req_duration p95 = 212.4 ms</c>.
/// <see cref="Stat"/> is normalised (<c>p95</c>, <c>p99.9</c>, <c>p50</c>, <c>avg</c>, <c>count</c>, <c>rate</c>, …);
/// <see cref="Unit"/> is <c>ms</c>, <c>s</c>, <c>%</c>, <c>/s</c>, null, or whatever a plain file declares.
/// </summary>
public sealed record MetricValue(string Metric, string Stat, double Value, string? Unit);

/// <summary>Outcome of parsing one metrics file: the values and the detected format, or a human-readable error.</summary>
public sealed record MetricsParseResult(string? Format, IReadOnlyList<MetricValue> Values, string? Error)
{
    public bool Ok => Error is null;
}
