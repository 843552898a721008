using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Slipway.Core.WorkItems;

/// <summary>What <see cref="KeyFinder"/> found; <paramref name="TimedOut"/>: the pattern ran out of time, so keys after that point were not looked for.</summary>
public sealed record KeyFinding(IReadOnlyList<WorkItemKey> Keys, bool TimedOut);

/// <summary>
/// Finds work-item keys of one project in branch names (<c>feature/SHOP-42-cart-total</c>) and commit messages,
/// with the project's <see cref="KeyPattern"/> (by default a whole word PREFIX-NUMBER: <c>XSHOP-1</c> and
/// <c>SHOP-1x</c> name nothing). Prefixes match whatever their case (<c>shop-42</c> is <c>SHOP-42</c>); only the
/// project's prefix counts, and numbers follow <see cref="WorkItemKey.ParseNumber"/> (a 13-digit number is not a
/// key). A pattern that runs out of time (each match has <see cref="KeyPattern.MatchTimeout"/>, a whole search
/// <see cref="SearchBudget"/>) ends the search with what was found so far: looking for keys never fails a run or
/// a release. Pure apart from the clock that bounds the work; thread-safe.
/// </summary>
public static class KeyFinder
{
    /// <summary>The most time one search (one text, or all the texts of one call) may take.</summary>
    public static readonly TimeSpan SearchBudget = TimeSpan.FromSeconds(2);

    /// <summary>The keys in <paramref name="text"/>, each once, in the order they first appear.</summary>
    public static KeyFinding Find(string? text, KeyPattern pattern, string prefix) => Find([text], pattern, prefix);

    /// <summary>The keys of several texts (a branch name and a commit message, or a release's commit messages), each once, in order.</summary>
    public static KeyFinding Find(IEnumerable<string?> texts, KeyPattern pattern, string prefix)
    {
        var found = new List<WorkItemKey>();
        var clock = Stopwatch.StartNew();
        foreach (var text in texts)
        {
            if (string.IsNullOrEmpty(text)) continue;
            try
            {
                for (var m = pattern.Regex.Match(text); m.Success; m = m.NextMatch())
                {
                    if (KeyOf(m, pattern, prefix) is { } key && !found.Contains(key)) found.Add(key);
                    if (clock.Elapsed > SearchBudget) return new KeyFinding(found, TimedOut: true);
                }
            }
            catch (RegexMatchTimeoutException) { return new KeyFinding(found, TimedOut: true); }
            if (clock.Elapsed > SearchBudget) return new KeyFinding(found, TimedOut: true);
        }
        return new KeyFinding(found, TimedOut: false);
    }

    private static WorkItemKey? KeyOf(Match m, KeyPattern pattern, string prefix)
    {
        if (pattern.HasKey)
            return m.Groups[KeyPattern.KeyGroup] is { Success: true } whole && WorkItemKey.TryParse(whole.Value, out var key) && key.Value.Prefix == prefix
                ? key : null;
        var number = m.Groups[KeyPattern.NumberGroup];
        if (!number.Success || WorkItemKey.ParseNumber(number.ValueSpan) is not { } n) return null;
        // Without a prefix group (or when it took no part in the match) the project's own prefix is meant:
        // #42 in a SHOP project is SHOP-42.
        var named = m.Groups[KeyPattern.PrefixGroup];
        if (pattern.HasPrefix && named.Success && !string.Equals(named.Value, prefix, StringComparison.OrdinalIgnoreCase)) return null;
        return new WorkItemKey(prefix, n);
    }
}
