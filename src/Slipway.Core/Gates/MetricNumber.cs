using System.Globalization;

namespace Slipway.Core.Gates;

/// <summary>Formats figures for rule texts and judgement details: compact, invariant, with the unit where people expect it.</summary>
internal static class MetricNumber
{
    /// <summary>Up to three decimals (212.4, 0.333, 1.1); tiny non-zero values keep three significant digits instead of showing 0.</summary>
    public static string Compact(double value)
    {
        if (value != 0 && Math.Abs(value) < 0.001)
            return value.ToString("0.###E+0", CultureInfo.InvariantCulture);
        var text = value.ToString("0.###", CultureInfo.InvariantCulture);
        return text == "-0" ? "0" : text;
    }

    /// <summary><c>212 ms</c>, <c>0.5 %</c>, <c>500/s</c>, or the bare number without a unit.</summary>
    public static string WithUnit(double value, string? unit) => unit switch
    {
        null or "" => Compact(value),
        "/s" => Compact(value) + "/s",
        _ => $"{Compact(value)} {unit}",
    };

    public static string Symbol(Comparison op) => op switch
    {
        Comparison.Less => "<",
        Comparison.LessOrEqual => "<=",
        Comparison.Greater => ">",
        _ => ">=",
    };

    /// <summary>The relation that actually holds: the rule's own when it passed, its negation when it failed.</summary>
    public static string Relation(Comparison op, bool held) => (op, held) switch
    {
        (Comparison.Less, true) or (Comparison.GreaterOrEqual, false) => "<",
        (Comparison.LessOrEqual, true) or (Comparison.Greater, false) => "≤",
        (Comparison.Greater, true) or (Comparison.LessOrEqual, false) => ">",
        _ => "≥",
    };

    public static bool Holds(double value, Comparison op, double threshold) => op switch
    {
        Comparison.Less => value < threshold,
        Comparison.LessOrEqual => value <= threshold,
        Comparison.Greater => value > threshold,
        _ => value >= threshold,
    };
}
