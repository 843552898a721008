namespace Slipway.Core.Gates;

public enum Comparison { Less, LessOrEqual, Greater, GreaterOrEqual }

/// <summary>
/// A quality-gate threshold such as <c>http_req_duration p95 &lt; 300 ms</c> or, when
/// <see cref="Relative"/>, <c>http_req_duration p95 &lt;= 1.1 × baseline</c> (then <see cref="Threshold"/>
/// is the factor and <see cref="Unit"/> is null). <see cref="Stat"/> is normalised like parsed metrics;
/// <see cref="Text"/> is the normalised rule text. Build one with <see cref="MetricRuleParser"/>.
/// </summary>
public sealed record MetricRule(string Metric, string Stat, Comparison Op, double Threshold, string? Unit, bool Relative, string Text);
