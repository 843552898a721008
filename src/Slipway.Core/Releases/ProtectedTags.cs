namespace Slipway.Core.Releases;

/// <summary>
/// Release tags are protected like release branches: a <c>{tag}</c> version is read from the newest matching tag, so
/// whoever can create or move such a tag chooses what a release is called, and a moved tag re-labels shipped code.
/// The project's protected tag patterns (server-side configuration, default <c>v*</c>) are git globs as
/// <c>git describe --match</c> reads them: <c>*</c> matches any characters including <c>/</c>, <c>?</c> one
/// character, <c>[a-z]</c>/<c>[!a]</c> one of a class, <c>\</c> escapes. Matching <c>/</c> with <c>*</c> errs
/// towards protecting more. Pure and thread-safe.
/// </summary>
public static class ProtectedTags
{
    /// <summary>Why <paramref name="pattern"/> cannot be a protected tag pattern, or null.</summary>
    public static string? CheckPattern(string pattern) =>
        VersionTemplate.CheckTagPattern(pattern) ?? (Compile(pattern) is null ? $"invalid tag pattern '{pattern}': unclosed '[' or trailing '\\'" : null);

    public static bool IsProtected(string tag, IEnumerable<string> patterns) => patterns.Any(p => Matches(p, tag));

    /// <summary>
    /// Whether every tag <paramref name="tagPattern"/> can match is protected by one of <paramref name="patterns"/>.
    /// Deliberately conservative (it may say no for a pattern that is in fact covered): a protected pattern covers one
    /// equal to it, and a literal prefix followed by <c>*</c> (<c>v*</c>) covers every pattern that starts with that
    /// prefix literally (<c>v1.*</c>, <c>v[0-9]*</c>).
    /// </summary>
    public static bool Covers(IEnumerable<string> patterns, string tagPattern) =>
        patterns.Any(p => p == tagPattern
                          || (p.EndsWith('*') && p[..^1].IndexOfAny(Meta) < 0 && tagPattern.StartsWith(p[..^1], StringComparison.Ordinal)));

    /// <summary>
    /// Null when a push may make this change to tag <paramref name="tag"/>, else the refusal. A protected tag is never
    /// moved or deleted by a push; it is created only by someone who may protect refs (<c>repo.protect</c>), which is how
    /// a release tag is made. Unprotected tags are free.
    /// </summary>
    /// <param name="created">The push creates the tag (its old id is all zeros).</param>
    /// <param name="deleted">The push deletes the tag (its new id is all zeros).</param>
    public static string? CheckPush(string tag, bool created, bool deleted, bool mayCreate, IReadOnlyCollection<string> patterns)
    {
        var pattern = patterns.FirstOrDefault(p => Matches(p, tag));
        if (pattern is null) return null;
        var what = $"tag '{tag}' is protected (release tags matching '{pattern}')";
        if (deleted) return $"{what}: it cannot be deleted";
        if (!created) return $"{what}: it cannot be moved";
        return mayCreate ? null : $"{what}: only users who may protect branches (repo.protect) can create it";
    }

    private static readonly char[] Meta = ['*', '?', '[', '\\'];

    /// <summary>Whether <paramref name="tag"/> matches <paramref name="pattern"/>; false for an invalid pattern.</summary>
    public static bool Matches(string pattern, string tag)
    {
        if (Compile(pattern) is not { } tokens) return false;
        // Dynamic programming over (token, position): linear in pattern × tag, never backtracking exponentially.
        var reach = new bool[tag.Length + 1];
        reach[0] = true;
        foreach (var token in tokens)
        {
            var next = new bool[tag.Length + 1];
            for (var i = 0; i <= tag.Length; i++)
            {
                if (!reach[i]) continue;
                if (token.Star)
                {
                    for (var j = i; j <= tag.Length; j++) next[j] = true;
                    break; // every later position is reachable already
                }
                if (i < tag.Length && token.Accepts(tag[i])) next[i + 1] = true;
            }
            reach = next;
        }
        return reach[tag.Length];
    }

    private sealed record Token(bool Star, Func<char, bool> Accepts);

    private static List<Token>? Compile(string pattern)
    {
        var tokens = new List<Token>();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    if (tokens.Count == 0 || !tokens[^1].Star) tokens.Add(new Token(true, _ => true));
                    break;
                case '?':
                    tokens.Add(new Token(false, _ => true));
                    break;
                case '\\':
                    if (++i >= pattern.Length) return null;
                    var literal = pattern[i];
                    tokens.Add(new Token(false, x => x == literal));
                    break;
                case '[':
                    var end = i + 1;
                    var negated = end < pattern.Length && pattern[end] is '!' or '^';
                    if (negated) end++;
                    var start = end;
                    if (end < pattern.Length && pattern[end] == ']') end++; // a leading ']' is a member
                    while (end < pattern.Length && pattern[end] != ']') end++;
                    if (end >= pattern.Length) return null;
                    var ranges = new List<(char From, char To)>();
                    for (var k = start; k < end; k++)
                        if (k + 2 < end && pattern[k + 1] == '-') { ranges.Add((pattern[k], pattern[k + 2])); k += 2; }
                        else ranges.Add((pattern[k], pattern[k]));
                    tokens.Add(new Token(false, x => ranges.Any(r => x >= r.From && x <= r.To) != negated));
                    i = end;
                    break;
                default:
                    tokens.Add(new Token(false, x => x == c));
                    break;
            }
        }
        return tokens;
    }
}
