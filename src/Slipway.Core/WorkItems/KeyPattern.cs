using System.Text.RegularExpressions;

namespace Slipway.Core.WorkItems;

/// <summary>
/// A project's pattern for work-item keys in branch names and commit messages: a regular expression that names
/// what it finds with either a group <c>(?&lt;key&gt;…)</c> matching a whole key (<c>SHOP-42</c>), or a group
/// <c>(?&lt;number&gt;…)</c>, with a group <c>(?&lt;prefix&gt;…)</c> or without one (then, or when the prefix group
/// takes no part in a match, the project's own prefix is meant: <c>#(?&lt;number&gt;[0-9]+)</c> finds SHOP-42 in
/// "fixes #42"). Prefixes match whatever their case; only the project's own prefix counts.
/// Every match runs under <see cref="MatchTimeout"/>, so a pattern that backtracks badly on some text costs a
/// bounded time and never a hung run. Immutable and thread-safe.
/// </summary>
public sealed partial class KeyPattern
{
    public const int MaxLength = 500;
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);
    public const string KeyGroup = "key";
    public const string PrefixGroup = "prefix";
    public const string NumberGroup = "number";

    // Today's behaviour: a whole word PREFIX-DIGITS (no letter or digit directly before or after it, so
    // punctuation, '/', '_' and '-' separate). The prefix and the number rules decide after.
    private const string DefaultText = @"(?<![A-Za-z0-9])(?<prefix>[A-Za-z][A-Za-z0-9]{1,9})-(?<number>[0-9]+)(?![A-Za-z0-9])";

    /// <summary>What a project without its own pattern uses: word-bounded PREFIX-NUMBER.</summary>
    public static KeyPattern Default { get; } = new(DefaultText, DefaultRegex(), isDefault: true);

    private KeyPattern(string text, Regex regex, bool isDefault)
    {
        Text = text;
        Regex = regex;
        IsDefault = isDefault;
        var names = regex.GetGroupNames();
        HasKey = names.Contains(KeyGroup);
        HasPrefix = names.Contains(PrefixGroup);
    }

    public string Text { get; }
    public bool IsDefault { get; }
    internal Regex Regex { get; }
    internal bool HasKey { get; }
    internal bool HasPrefix { get; }

    /// <summary>
    /// The pattern of <paramref name="text"/> (null or empty: <see cref="Default"/>), or null with the reason it is
    /// refused: too long, not a regular expression, no group that names a key, or too slow on long texts.
    /// </summary>
    public static KeyPattern? Parse(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(text) || text == DefaultText) return Default;
        if (text.Length > MaxLength) { error = $"the key pattern is longer than {MaxLength} characters"; return null; }
        Regex regex;
        try { regex = new Regex(text, RegexOptions.CultureInvariant, MatchTimeout); }
        catch (ArgumentException e) { error = $"the key pattern is not a valid regular expression: {e.Message}"; return null; }
        var names = regex.GetGroupNames();
        bool key = names.Contains(KeyGroup), number = names.Contains(NumberGroup), prefix = names.Contains(PrefixGroup);
        if (key && (number || prefix))
            error = "the key pattern must use either (?<key>...) or (?<number>...) with an optional (?<prefix>...), not both";
        else if (!key && !number)
            error = prefix
                ? "the key pattern has (?<prefix>...) but no (?<number>...) group"
                : "the key pattern must name what it finds: a group (?<key>...) matching a whole key such as SHOP-42, " +
                  "or (?<number>...) with an optional (?<prefix>...) (without one, the project's prefix is meant)";
        else if (Probe(regex) is { } slow)
            error = $"the key pattern takes longer than {MatchTimeout.TotalMilliseconds:0} ms on a {slow.Length}-character text " +
                    "like \"" + slow[..12] + "…\"; avoid nested repetition such as (a+)+";
        return error is null ? new KeyPattern(text, regex, isDefault: false) : null;
    }

    /// <summary>
    /// A text the pattern times out on, or null. Catches exponential backtracking (nested repetition such as
    /// <c>(a+)+</c>), which blows up within a few dozen characters, before the pattern is saved. The probes are
    /// short so that a merely quadratic pattern (<c>[a-z]+_</c>) passes even on a loaded machine: on a long commit
    /// message such a pattern may still run out of time, which costs a warning on the run, nothing more.
    /// </summary>
    private static string? Probe(Regex regex)
    {
        foreach (var text in ProbeTexts)
        {
            try { for (var m = regex.Match(text); m.Success; m = m.NextMatch()) { } }
            catch (RegexMatchTimeoutException) { return text; }
        }
        return null;
    }

    private static readonly string[] ProbeTexts =
    [
        new string('a', 300) + "!",
        new string('1', 300) + "!",
        string.Concat(Enumerable.Repeat("SHOP-1 ", 40)) + "!",
        string.Concat(Enumerable.Repeat("feature/", 40)) + "!",
        string.Concat(Enumerable.Repeat("a-", 150)) + "!",
        string.Concat(Enumerable.Repeat("aa ", 100)) + "!",
    ];

    [GeneratedRegex(DefaultText, RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex DefaultRegex();
}
