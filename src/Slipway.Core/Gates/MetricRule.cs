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
    /// The same condition however it is spelled (<c>p(95)&lt;300ms</c> is <c>p95 &lt; 300 ms</c>, <c>1.10 x baseline</c> is
    /// <c>1.1 × baseline</c>). Not across units: <c>300 ms</c> and <c>0.3 s</c> are judged alike only for values reported with a
    /// unit, while a value reported without one is compared as it is (<see cref="MetricRuleJudge.TryConvert"/>).
    /// </summary>
    public bool SameAs(MetricRule other) =>
        Metric == other.Metric && Stat == other.Stat && Op == other.Op && Relative == other.Relative && Unit == other.Unit
        && Math.Abs(other.Threshold - Threshold) <= 1e-9 * Math.Max(1, Math.Abs(Threshold));
}
