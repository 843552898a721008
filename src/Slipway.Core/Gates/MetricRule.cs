namespace Slipway.Core.Gates;

public enum Comparison { Less, LessOrEqual, Greater, GreaterOrEqual }

/// <summary>
/// A quality-gate threshold such as <c>http_req_duration p95 &lt; 300 ms</c> or, when
/// <see cref="Relative"/>, <c>http_req_duration p95 &lt;= 1.1 × baseline</c> (then <see cref="Threshold"/>
/// is the factor and <see cref="Unit"/> is null). <see cref="Stat"/> is normalised like parsed metrics;
/// <see cref="Text"/> is the normalised rule text. Build one with <see cref="MetricRuleParser"/>.
/// </summary>
public sealed record MetricRule(string Metric, string Stat, Comparison Op, double Threshold, string? Unit, bool Relative, string Text)
{
    /// <summary>
    /// The same condition whatever the units it is written in: ms and s convert (<see cref="MetricRuleJudge.TryConvert"/>); a
    /// rule without a unit (it takes the value as reported) is never the same as one with a unit.
    /// </summary>
    public bool SameAs(MetricRule other) =>
        Metric == other.Metric && Stat == other.Stat && Op == other.Op && Relative == other.Relative
        && (Unit is null) == (other.Unit is null)
        && MetricRuleJudge.TryConvert(other.Threshold, other.Unit, Unit, out var theirs)
        && Math.Abs(theirs - Threshold) <= 1e-9 * Math.Max(1, Math.Abs(Threshold));
}
