using System.Globalization;
using System.Text.RegularExpressions;

namespace Slipway.Core.Pipelines;

/// <summary>
/// Durations as written in pipeline files: hours, minutes and seconds in that order, each optional,
/// at least one present: <c>30s</c>, <c>10m</c>, <c>1h</c>, <c>1h30m</c>, <c>90s</c>. No signs,
/// spaces, fractions or days, so a value reads the same to every tool.
/// </summary>
public static partial class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var m = Pattern().Match(text);
        if (!m.Success || text.Length == 0) return false;
        long Part(int group) => m.Groups[group].Success ? long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        value = TimeSpan.FromSeconds(Part(1) * 3600 + Part(2) * 60 + Part(3));
        return true;
    }

    /// <summary>Parses and checks <c>0 &lt; value &lt;= max</c>; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParsePositive(string text, TimeSpan max, out TimeSpan value, out string? error)
    {
        error = null;
        if (!TryParse(text, out value))
        {
            error = $"invalid duration {Yaml.LintText.Quote(text)}; use whole hours, minutes and seconds such as 30s, 10m, 1h or 1h30m";
            return false;
        }
        if (value <= TimeSpan.Zero)
        {
            error = $"duration {Yaml.LintText.Quote(text)} must be greater than 0";
            return false;
        }
        if (value > max)
        {
            error = $"duration {Yaml.LintText.Quote(text)} exceeds the maximum of {Format(max)}";
            return false;
        }
        return true;
    }

    /// <summary>The canonical text form, e.g. 1h30m; round-trips through <see cref="TryParse"/>.</summary>
    public static string Format(TimeSpan value)
    {
        var total = (long)value.TotalSeconds;
        if (total <= 0) return "0s";
        var h = total / 3600;
        var m = total % 3600 / 60;
        var s = total % 60;
        return (h > 0 ? $"{h}h" : "") + (m > 0 ? $"{m}m" : "") + (s > 0 ? $"{s}s" : "");
    }

    // At most 6 digits per part keeps the arithmetic far from overflow.
    [GeneratedRegex(@"^(?:([0-9]{1,6})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,6})s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
