using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Slipway.Core.WorkItems;

/// <summary>
/// A work item's key: the project's prefix and the item's number, written <c>SHOP-42</c>. A prefix is 2–10
/// upper-case ASCII letters or digits starting with a letter; a number is 1–<see cref="MaxNumber"/> without
/// leading zeros, so a key is always written one way and a long digit string (a timestamp, an id) is never a key.
/// </summary>
public readonly record struct WorkItemKey(string Prefix, long Number)
{
    public const int MinPrefixLength = 2;
    public const int MaxPrefixLength = 10;
    public const int MaxNumberDigits = 9;
    public const long MaxNumber = 999_999_999;

    public override string ToString() => Prefix + "-" + Number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Null when <paramref name="prefix"/> is a valid key prefix, else why not.</summary>
    public static string? CheckPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix)) return "the key prefix is empty";
        if (prefix.Length is < MinPrefixLength or > MaxPrefixLength)
            return $"the key prefix must be {MinPrefixLength} to {MaxPrefixLength} characters long";
        if (!IsUpperLetter(prefix[0])) return "the key prefix must start with an upper-case letter A-Z";
        if (!prefix.All(c => IsUpperLetter(c) || char.IsAsciiDigit(c)))
            return "the key prefix may only contain upper-case letters A-Z and digits";
        return null;
    }

    /// <summary>Parses <c>SHOP-42</c> (case-insensitive; the prefix is normalised to upper case).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out WorkItemKey? key)
    {
        key = null;
        if (text is null) return false;
        var dash = text.LastIndexOf('-');
        if (dash <= 0) return false;
        var prefix = text[..dash].ToUpperInvariant();
        if (CheckPrefix(prefix) is not null) return false;
        if (ParseNumber(text.AsSpan(dash + 1)) is not { } number) return false;
        key = new WorkItemKey(prefix, number);
        return true;
    }

    /// <summary>1..<see cref="MaxNumber"/>, ASCII digits, no leading zero; otherwise null.</summary>
    public static long? ParseNumber(ReadOnlySpan<char> digits)
    {
        if (digits.Length is 0 or > MaxNumberDigits || digits[0] == '0') return null;
        foreach (var c in digits) if (!char.IsAsciiDigit(c)) return null;
        return long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static bool IsUpperLetter(char c) => c is >= 'A' and <= 'Z';
}
