using System.Globalization;

namespace Slipway.Core.Gates;

/// <summary>
/// Parses rule texts: <c>METRIC STAT OP NUMBER [UNIT]</c> or <c>METRIC STAT OP FACTOR x baseline</c>
/// (<c>x</c>, <c>×</c> or <c>*</c>), with OP one of <c>&lt; &lt;= &gt; &gt;=</c> and UNIT one of
/// <c>ms s % /s</c>. Whitespace is free around the operator and before the unit; metric names are
/// case-sensitive and may hold letters, digits and <c>_ . - :</c>.
/// </summary>
public static class MetricRuleParser
{
    public const int MaxLength = 300;

    private const string Examples = "e.g. 'http_req_duration p95 < 300 ms' or 'http_req_duration p95 <= 1.10 x baseline'";
    private static readonly string[] Units = ["ms", "s", "%", "/s"];

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> saying what is wrong, with an example.</summary>
    public static MetricRule Parse(string text) =>
        TryParse(text, out var rule, out var error) ? rule! : throw new FormatException(error);

    public static bool TryParse(string text, out MetricRule? rule, out string? error)
    {
        rule = null;
        error = Check(text ?? "", ref rule);
        return error is null;
    }

    private static string? Check(string text, ref MetricRule? rule)
    {
        var t = text.Trim();
        if (t.Length == 0) return $"rule is empty; write one like {Examples}";
        if (t.Length > MaxLength) return $"rule is longer than {MaxLength} characters";

        var at = t.IndexOfAny(['<', '>', '=', '!', '≤', '≥']);
        if (at < 0) return $"rule '{t}' has no comparison (<, <=, > or >=); {Examples}";
        var (op, opLength, opError) = ReadOp(t, at);
        if (opError is not null) return $"rule '{t}': {opError}; {Examples}";

        var left = t[..at].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (left.Length != 2)
            return $"rule '{t}' needs a metric and a statistic before the comparison (found {left.Length} words); {Examples}";
        var (metric, stat) = (left[0], StatNames.Normalise(left[1]));
        if (!metric.All(IsMetricChar))
            return $"metric name '{metric}' may only contain letters, digits, '_', '.', '-' and ':'";
        if (!stat.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.'))
            return $"statistic '{left[1]}' is not a statistic name such as p95, p99, avg, max, count or rate";

        var right = t[(at + opLength)..].Trim();
        if (right.Length == 0) return $"rule '{t}' has no threshold after '{t.Substring(at, opLength)}'; {Examples}";
        return right.EndsWith("baseline", StringComparison.Ordinal)
            ? Relative(t, metric, stat, op, right, ref rule)
            : Absolute(t, metric, stat, op, right, ref rule);
    }

    private static string? Absolute(string t, string metric, string stat, Comparison op, string right, ref MetricRule? rule)
    {
        var end = 0;
        while (end < right.Length && (char.IsAsciiDigit(right[end]) || right[end] == '.')) end++;
        if (end == 0) return $"rule '{t}': threshold '{right}' does not start with a number (negative thresholds make no sense); {Examples}";
        if (!TryNumber(right[..end], out var threshold)) return $"rule '{t}': '{right[..end]}' is not a number";
        var unitText = right[end..].Trim();
        var unit = unitText.Length == 0 ? null : Units.FirstOrDefault(u => u == unitText);
        if (unitText.Length > 0 && unit is null)
            return $"rule '{t}': unknown unit '{unitText}'; use ms, s, %, /s or none (for a relative rule write 'x baseline')";
        var text = $"{metric} {stat} {MetricNumber.Symbol(op)} {MetricNumber.WithUnit(threshold, unit)}";
        rule = new MetricRule(metric, stat, op, threshold, unit, Relative: false, text);
        return null;
    }

    private static string? Relative(string t, string metric, string stat, Comparison op, string right, ref MetricRule? rule)
    {
        var factorPart = right[..^"baseline".Length].TrimEnd();
        if (factorPart.Length == 0 || factorPart[^1] is not ('x' or '×' or '*'))
            return $"rule '{t}': write the factor as 'FACTOR x baseline', e.g. 'http_req_duration p95 <= 1.10 x baseline'";
        var number = factorPart[..^1].Trim();
        if (!TryNumber(number, out var factor) || factor <= 0)
            return $"rule '{t}': factor '{number}' is not a positive number, e.g. 1.10 for 10 % above the baseline";
        var text = $"{metric} {stat} {MetricNumber.Symbol(op)} {MetricNumber.Compact(factor)} × baseline";
        rule = new MetricRule(metric, stat, op, factor, Unit: null, Relative: true, text);
        return null;
    }

    private static (Comparison Op, int Length, string? Error) ReadOp(string t, int at)
    {
        var next = at + 1 < t.Length ? t[at + 1] : '\0';
        return t[at] switch
        {
            '<' when next == '=' => (Comparison.LessOrEqual, 2, null),
            '>' when next == '=' => (Comparison.GreaterOrEqual, 2, null),
            '<' when next is '<' or '>' => (default, 0, $"'{t[at]}{next}' is not a comparison; use <, <=, > or >="),
            '>' when next is '<' or '>' => (default, 0, $"'{t[at]}{next}' is not a comparison; use <, <=, > or >="),
            '<' => (Comparison.Less, 1, null),
            '>' => (Comparison.Greater, 1, null),
            '≤' => (Comparison.LessOrEqual, 1, null),
            '≥' => (Comparison.GreaterOrEqual, 1, null),
            _ => (default, 0, $"'{t[at]}{(next is '=' ? "=" : "")}' is not a comparison; use <, <=, > or >="),
        };
    }

    private static bool TryNumber(string s, out double value) =>
        double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static bool IsMetricChar(char ch) => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.' or '-' or ':';
}
