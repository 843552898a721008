namespace Slipway.Core.Pipelines;

/// <summary>"did you mean ...?" for unknown keys, by Levenshtein distance.</summary>
public static class KeySuggestions
{
    /// <summary>Keys further than this from every known key get no suggestion (a guess would mislead).</summary>
    public const int MaxDistance = 2;

    /// <summary>The closest known key within <see cref="MaxDistance"/> edits (case-insensitive), or null.</summary>
    public static string? Closest(string unknown, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var d = Distance(unknown.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }
        return bestDistance <= MaxDistance ? best : null;
    }

    public static int Distance(string a, string b)
    {
        // Keys are short; bail out early on long input so a hostile 1 MB key costs nothing.
        if (Math.Abs(a.Length - b.Length) > MaxDistance) return Math.Abs(a.Length - b.Length);
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
