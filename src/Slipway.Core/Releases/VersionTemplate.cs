using System.Text.RegularExpressions;

namespace Slipway.Core.Releases;

/// <summary>
/// A release's version template. <c>{run}</c> becomes the run number (<c>1.4.{run}</c>); <c>{tag}</c> becomes the
/// newest tag matching the release's <c>tag</c> pattern that the commit contains, without a leading <c>v</c>
/// (<c>v1.4.0</c> gives <c>1.4.0</c>). A template needs at least one of them: a fixed version would collide with
/// itself on the second release. A <c>{tag}</c> template alone releases once per tag (a second green run on the
/// same tag is not released: its version is taken). Pure.
/// </summary>
public static partial class VersionTemplate
{
    public const string RunPlaceholder = "{run}";
    public const string TagPlaceholder = "{tag}";
    public const int MaxLength = 64;

    /// <summary>Why <paramref name="template"/> is not usable, or null when it is.</summary>
    /// <param name="tagPattern">The release's <c>tag</c> pattern, required by (and only allowed with) <c>{tag}</c>.</param>
    public static string? Check(string template, string? tagPattern = null)
    {
        var usesTag = template.Contains(TagPlaceholder, StringComparison.Ordinal);
        if (!template.Contains(RunPlaceholder, StringComparison.Ordinal) && !usesTag)
            return $"the version template {Quote(template)} has no {RunPlaceholder} or {TagPlaceholder}; a fixed version would collide on the second release";
        var unknown = Placeholder().Matches(template).Select(m => m.Value).FirstOrDefault(p => p != RunPlaceholder && p != TagPlaceholder);
        if (unknown is not null) return $"unknown placeholder {unknown} in the version template; only {RunPlaceholder} and {TagPlaceholder} are supported";
        if (usesTag && tagPattern is null) return $"the version template uses {TagPlaceholder}: name the tags to read it from with 'tag', e.g. tag: \"v*\"";
        var sample = Expand(template, 1, usesTag ? "1.0.0" : null);
        if (sample.Length > MaxLength || !VersionPattern().IsMatch(sample))
            return $"the version template {Quote(template)} must give 1-{MaxLength} letters, digits, '.', '_', '+' or '-' starting with a letter or digit";
        return null;
    }

    /// <summary>Why <paramref name="pattern"/> (a git tag glob) is not usable, or null.</summary>
    public static string? CheckTagPattern(string pattern) =>
        pattern.Length is 0 or > 100 || pattern.StartsWith('-') || pattern.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            ? $"invalid tag pattern {Quote(pattern)}; give a git tag glob such as \"v*\""
            : null;

    public static bool UsesTag(string template) => template.Contains(TagPlaceholder, StringComparison.Ordinal);

    /// <param name="tag">The tag's version (see <see cref="VersionOfTag"/>); required when the template uses <c>{tag}</c>.</param>
    public static string Expand(string template, long runNumber, string? tag = null)
    {
        if (UsesTag(template) && tag is null) throw new ArgumentException("the template uses {tag} and no tag was given", nameof(tag));
        var version = template.Replace(RunPlaceholder, runNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return tag is null ? version : version.Replace(TagPlaceholder, tag, StringComparison.Ordinal);
    }

    /// <summary>A tag's version: the tag without a leading <c>v</c> or <c>V</c> before a digit (<c>v1.4.0</c> → <c>1.4.0</c>).</summary>
    public static string VersionOfTag(string tag) =>
        tag.Length > 1 && tag[0] is 'v' or 'V' && char.IsAsciiDigit(tag[1]) ? tag[1..] : tag;

    /// <summary>Whether <paramref name="version"/> is a well-formed version (also what a URL may name).</summary>
    public static bool IsValidVersion(string version) => version.Length <= MaxLength && VersionPattern().IsMatch(version);

    private static string Quote(string s) => "'" + s + "'";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"\{[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
