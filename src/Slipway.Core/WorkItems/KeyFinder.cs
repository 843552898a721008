using System.Text.RegularExpressions;

namespace Slipway.Core.WorkItems;

/// <summary>
/// Finds work-item keys in branch names (<c>feature/SHOP-42-cart-total</c>) and commit messages. A key is a
/// whole word: no letter or digit directly before or after it (<c>XSHOP-1</c> and <c>SHOP-1x</c> name nothing),
/// so punctuation, '/', '_' and '-' separate. Matching ignores case (<c>shop-42</c> is <c>SHOP-42</c>); only
/// the given prefixes count, and numbers follow <see cref="WorkItemKey.ParseNumber"/> (a 13-digit number
/// is not a key). Pure and thread-safe.
/// </summary>
public static partial class KeyFinder
{
    /// <summary>The keys in <paramref name="text"/>, each once, in the order they first appear.</summary>
    public static IReadOnlyList<WorkItemKey> Find(string? text, IReadOnlySet<string> prefixes)
    {
        if (string.IsNullOrEmpty(text) || prefixes.Count == 0) return [];
        var found = new List<WorkItemKey>();
        foreach (Match m in Candidate().Matches(text))
        {
            var prefix = m.Groups["prefix"].Value.ToUpperInvariant();
            if (!prefixes.Contains(prefix)) continue;
            if (WorkItemKey.ParseNumber(m.Groups["number"].ValueSpan) is not { } number) continue;
            var key = new WorkItemKey(prefix, number);
            if (!found.Contains(key)) found.Add(key);
        }
        return found;
    }

    /// <summary>The keys of several texts (a branch name and a commit message), each once, in order.</summary>
    public static IReadOnlyList<WorkItemKey> Find(IEnumerable<string?> texts, IReadOnlySet<string> prefixes) =>
        texts.SelectMany(t => Find(t, prefixes)).Distinct().ToList();

    // Candidates are any word-bounded PREFIX-DIGITS; the prefix set and the number rules decide after.
    // A timeout bounds the work on hostile input (commit messages are capped at 64 KiB before this).
    [GeneratedRegex(@"(?<![A-Za-z0-9])(?<prefix>[A-Za-z][A-Za-z0-9]{1,9})-(?<number>[0-9]+)(?![A-Za-z0-9])",
        RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Candidate();
}
