using System.Text.RegularExpressions;

namespace Slipway.Core.Gates;

/// <summary>
/// Maps the stat spellings of k6, Artillery and autocannon onto one vocabulary, so a rule
/// written as <c>p95</c> matches k6's <c>p(95)</c> and autocannon's <c>p97_5</c> alike.
/// </summary>
internal static partial class StatNames
{
    public static string Normalise(string stat)
    {
        var s = stat.Trim();
        switch (s)
        {
            case "med" or "median": return "p50";
            case "mean" or "average": return "avg";
            case "p999": return "p99.9"; // Artillery's name for the 99.9th percentile
        }

        var k6 = K6Percentile().Match(s);
        if (k6.Success) return "p" + k6.Groups[1].Value;

        var underscore = UnderscorePercentile().Match(s);
        if (underscore.Success) return $"p{underscore.Groups[1].Value}.{underscore.Groups[2].Value}";

        return s;
    }

    [GeneratedRegex(@"^p\(\s*([0-9]+(?:\.[0-9]+)?)\s*\)$")]
    private static partial Regex K6Percentile();

    [GeneratedRegex(@"^p([0-9]+)_([0-9]+)$")]
    private static partial Regex UnderscorePercentile();
}
