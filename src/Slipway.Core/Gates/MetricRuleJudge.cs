namespace Slipway.Core.Gates;

/// <summary>
/// Judges a <see cref="MetricRule"/> against reported values. Unlike k6, whose thresholds on a metric
/// that was never emitted silently pass, a metric+stat that was not reported fails the rule.
/// Units: <c>ms</c> and <c>s</c> convert into each other; <c>%</c> and <c>/s</c> must match the
/// reported unit exactly. A rule without a unit, or a time rule against a value reported without one,
/// compares the number as reported (the value's unit is assumed): plain files and custom k6 trends often omit it.
/// A run of fewer than the minimum <c>requests count</c> is inconclusive rather than a pass or a fail.
/// </summary>
public static class MetricRuleJudge
{
    public const long DefaultMinimumSamples = 30;
    private const int MaxListed = 5;

    /// <summary>
    /// <paramref name="measured"/>: the values reported for the release on the environment;
    /// <paramref name="baseline"/>: those of the baseline release (for relative rules), null when there is none.
    /// </summary>
    public static RuleJudgement Judge(MetricRule rule, IReadOnlyList<MetricValue> measured, IReadOnlyList<MetricValue>? baseline,
        long minimumSamples = DefaultMinimumSamples)
    {
        var name = $"{rule.Metric} {rule.Stat}";
        var value = Find(measured, rule.Metric, rule.Stat);
        if (value is null)
            return new(GateOutcome.Failed, $"{name} was not reported ({Reported(measured, rule.Metric)})", null, null);
        if (!double.IsFinite(value.Value))
            return new(GateOutcome.Failed, $"{name} is not a finite number", null, null);

        var unit = rule.Unit ?? value.Unit;
        if (!TryConvert(value.Value, value.Unit, unit, out var m))
            return new(GateOutcome.Failed,
                $"units differ: the rule is in {rule.Unit} but {name} is reported {(value.Unit is null ? "without a unit" : "in " + value.Unit)}",
                value.Value, null);

        double? b = Find(baseline, rule.Metric, rule.Stat) is { } bv && double.IsFinite(bv.Value) && TryConvert(bv.Value, bv.Unit, unit, out var converted)
            ? converted
            : null;

        // A clear failure stands however few requests were measured; only a pass on too few is not trusted.
        var judged = rule.Relative ? JudgeRelative(rule, name, m, b, unit, baseline, minimumSamples) : JudgeAbsolute(rule, m, b, unit);
        if (judged.Outcome == GateOutcome.Passed && TooFewSamples(rule, measured, minimumSamples) is { } few)
            return new(GateOutcome.Inconclusive, $"{judged.Detail}, but only {MetricNumber.Compact(few)} requests measured; at least {minimumSamples} are needed to judge", m, b);
        return judged;
    }

    private static RuleJudgement JudgeAbsolute(MetricRule rule, double m, double? b, string? unit)
    {
        var held = MetricNumber.Holds(m, rule.Op, rule.Threshold);
        var detail = $"{rule.Stat} {MetricNumber.WithUnit(m, unit)} {MetricNumber.Relation(rule.Op, held)} {MetricNumber.WithUnit(rule.Threshold, unit)}";
        return new(held ? GateOutcome.Passed : GateOutcome.Failed, detail, m, b);
    }

    private static RuleJudgement JudgeRelative(MetricRule rule, string name, double m, double? b, string? unit,
        IReadOnlyList<MetricValue>? baseline, long minimumSamples)
    {
        if (b is null)
            return new(GateOutcome.Inconclusive, $"no baseline value of {name}", m, null);
        if (b == 0)
            return new(GateOutcome.Inconclusive, $"the baseline value of {name} is 0, so a factor of it means nothing", m, b);
        if (baseline is not null && TooFewSamples(rule, baseline, minimumSamples) is { } few)
            return new(GateOutcome.Inconclusive, $"the baseline measured only {MetricNumber.Compact(few)} requests; at least {minimumSamples} are needed to compare", m, b);

        var held = MetricNumber.Holds(m, rule.Op, rule.Threshold * b.Value);
        var detail = $"{rule.Stat} {MetricNumber.WithUnit(m, unit)} {MetricNumber.Relation(rule.Op, held)} "
            + $"{MetricNumber.Compact(rule.Threshold)} × {MetricNumber.WithUnit(b.Value, unit)} baseline ({Change(m, b.Value)})";
        return new(held ? GateOutcome.Passed : GateOutcome.Failed, detail, m, b);
    }

    /// <summary>The request count when it is reported and below the minimum. A rule on the request count itself is always judged.</summary>
    private static double? TooFewSamples(MetricRule rule, IReadOnlyList<MetricValue> values, long minimumSamples) =>
        rule.Metric != "requests" && Find(values, "requests", "count") is { } count && count.Value < minimumSamples
            ? count.Value
            : null;

    /// <summary>
    /// A value in <paramref name="from"/> expressed in <paramref name="to"/>: ms and s convert into each other. A rule without a
    /// unit takes the value as reported, and so does a time rule against a value without one; % and /s must be reported in
    /// exactly that unit.
    /// </summary>
    public static bool TryConvert(double value, string? from, string? to, out double result)
    {
        result = value;
        if (to is null || from == to) return true;
        if (from is null) return to is "ms" or "s";
        (result, var ok) = (from, to) switch
        {
            ("s", "ms") => (value * 1000, true),
            ("ms", "s") => (value / 1000, true),
            _ => (value, false),
        };
        return ok;
    }

    private static MetricValue? Find(IReadOnlyList<MetricValue>? values, string metric, string stat) =>
        values?.FirstOrDefault(v => v.Metric == metric && v.Stat == stat);

    /// <summary>What was reported instead, to point at a typo: the metric's other stats, or a few metric names.</summary>
    private static string Reported(IReadOnlyList<MetricValue> values, string metric)
    {
        if (values.Count == 0) return "nothing was reported";
        var stats = values.Where(v => v.Metric == metric).Select(v => v.Stat).Distinct().ToList();
        if (stats.Count > 0) return $"{metric} has {List(stats)}";
        return "reported: " + List(values.Select(v => v.Metric).Distinct().ToList());
    }

    private static string List(List<string> items) =>
        string.Join(", ", items.Take(MaxListed)) + (items.Count > MaxListed ? $" and {items.Count - MaxListed} more" : "");

    private static string Change(double m, double b)
    {
        var percent = (m / b - 1) * 100;
        var rounded = Math.Abs(percent) >= 10 ? Math.Round(percent) : Math.Round(percent, 1);
        return (rounded >= 0 ? "+" : "") + MetricNumber.Compact(rounded) + " %";
    }
}
