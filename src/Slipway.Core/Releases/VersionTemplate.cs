using System.Text.RegularExpressions;

namespace Slipway.Core.Releases;

/// <summary>
/// A release's version template (<c>1.4.{run}</c>): <c>{run}</c> becomes the run number. A template must contain
/// <c>{run}</c>: a fixed version would collide with itself on the second release. Pure.
/// </summary>
public static partial class VersionTemplate
{
    public const string RunPlaceholder = "{run}";
    public const int MaxLength = 64;

    /// <summary>Why <paramref name="template"/> is not usable, or null when it is.</summary>
    public static string? Check(string template)
    {
        if (!template.Contains(RunPlaceholder, StringComparison.Ordinal))
            return $"the version template {Quote(template)} has no {RunPlaceholder}; a fixed version would collide on the second release";
        var unknown = Placeholder().Matches(template).Select(m => m.Value).FirstOrDefault(p => p != RunPlaceholder);
        if (unknown is not null) return $"unknown placeholder {unknown} in the version template; only {RunPlaceholder} is supported";
        var sample = Expand(template, 1);
        if (sample.Length > MaxLength || !VersionPattern().IsMatch(sample))
            return $"the version template {Quote(template)} must give 1-{MaxLength} letters, digits, '.', '_', '+' or '-' starting with a letter or digit";
        return null;
    }

    public static string Expand(string template, long runNumber) =>
        template.Replace(RunPlaceholder, runNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>Whether <paramref name="version"/> is a well-formed version (also what a URL may name).</summary>
    public static bool IsValidVersion(string version) => version.Length <= MaxLength && VersionPattern().IsMatch(version);

    private static string Quote(string s) => "'" + s + "'";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"\{[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
