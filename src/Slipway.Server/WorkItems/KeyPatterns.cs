using System.Collections.Concurrent;
using Slipway.Core.WorkItems;

namespace Slipway.Server.WorkItems;

/// <summary>
/// Projects' key patterns compiled once per pattern text: compiling and probing a regular expression costs more
/// than the rest of linking a run, and a pattern's text never means anything else. A stored pattern that no longer
/// parses (it was checked when saved) is returned as null with the reason, so linking can warn instead of failing.
/// Bounded (cleared when full); thread-safe.
/// </summary>
public sealed class KeyPatterns
{
    private const int Capacity = 256;
    private readonly ConcurrentDictionary<string, (KeyPattern? Pattern, string? Error)> _byText = new(StringComparer.Ordinal);

    public KeyPattern? For(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(text)) return KeyPattern.Default;
        if (!_byText.TryGetValue(text, out var known))
        {
            var pattern = KeyPattern.Parse(text, out var parseError);
            if (_byText.Count >= Capacity) _byText.Clear();
            known = _byText[text] = (pattern, parseError);
        }
        error = known.Error;
        return known.Pattern;
    }
}
