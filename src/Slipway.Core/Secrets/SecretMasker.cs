using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Slipway.Core.Secrets;

/// <summary>
/// Replaces secret values in a byte stream (a job's log) with <c>***</c>. Pure: no I/O.
/// From each secret it derives the forms a script is likely to print: the raw UTF-8 bytes; standard and
/// URL-safe base64 at every alignment (the "stable core" that is the same wherever the secret sits inside a
/// longer base64 text); percent- and form-encoding; the JSON-escaped string; and, for multi-line values such
/// as PEM keys, every line of at least <see cref="MinimumLength"/> bytes on its own. Derived forms shorter than
/// that are not masked (they would hide ordinary text without protecting anything).
/// Streaming: <see cref="Process"/> returns what is safe to emit now and holds back only the longest tail that
/// could still be the start of a form, so a secret split across two writes is masked and output that cannot
/// be part of one is never delayed; <see cref="Flush"/> returns the held tail at the end.
/// Matching is leftmost-longest, and overlapping matches are masked as one region. Not thread-safe: one instance per stream.
/// </summary>
public sealed class SecretMasker
{
    /// <summary>Shorter secrets are refused by the API: masking them would hide too much of every log.</summary>
    public const int MinimumLength = 4;

    public static ReadOnlySpan<byte> Mask => "***"u8;

    private readonly byte[]?[][] _byFirstByte = new byte[]?[256][];
    private readonly int _maxLength;
    private byte[] _held = [];
    private int _carried;

    public SecretMasker(IEnumerable<string> secrets)
    {
        var patterns = secrets.SelectMany(DerivePatterns)
            .Select(Encoding.UTF8.GetBytes)
            .Where(p => p.Length >= MinimumLength)
            .DistinctBy(Convert.ToHexString)
            .ToList();
        Patterns = patterns;
        _maxLength = patterns.Count == 0 ? 0 : patterns.Max(p => p.Length);
        foreach (var group in patterns.GroupBy(p => p[0]))
            _byFirstByte[group.Key] = group.OrderByDescending(p => p.Length).ToArray();
    }

    /// <summary>The byte patterns that are masked (for tests and diagnostics; they are secret material).</summary>
    public IReadOnlyList<byte[]> Patterns { get; }

    public bool IsEmpty => Patterns.Count == 0;

    /// <summary>Masks <paramref name="chunk"/> together with any held tail; returns what may be emitted now.</summary>
    public byte[] Process(ReadOnlySpan<byte> chunk)
    {
        if (IsEmpty) return chunk.ToArray();
        var data = new byte[_held.Length + chunk.Length];
        _held.CopyTo(data, 0);
        chunk.CopyTo(data.AsSpan(_held.Length));
        var output = new MemoryStream(data.Length);
        var consumed = Scan(data, final: false, output, ref _carried);
        _held = data.AsSpan(consumed).ToArray();
        return output.ToArray();
    }

    /// <summary>Masks and returns the held tail; the masker is then empty and may be reused.</summary>
    public byte[] Flush()
    {
        if (_held.Length == 0) return [];
        var output = new MemoryStream(_held.Length);
        Scan(_held, final: true, output, ref _carried);
        _held = [];
        return output.ToArray();
    }

    /// <summary>Masks one complete text (a failure reason, a note); does not touch the stream's held tail.</summary>
    public string MaskText(string text)
    {
        if (IsEmpty || text.Length == 0) return text;
        var output = new MemoryStream();
        var carried = 0;
        Scan(Encoding.UTF8.GetBytes(text), final: true, output, ref carried);
        return Encoding.UTF8.GetString(output.GetBuffer(), 0, (int)output.Length);
    }

    /// <summary>
    /// Writes the masked form of <paramref name="data"/>; returns how many bytes were consumed (the rest is held).
    /// Overlapping matches are masked as one region (their union), so no part of either secret shows.
    /// <paramref name="carried"/>: how many leading bytes of <paramref name="data"/> belong to a region whose
    /// <c>***</c> was already emitted by the previous call (the region was still growing at the end of it).
    /// </summary>
    private int Scan(ReadOnlySpan<byte> data, bool final, MemoryStream output, ref int carried)
    {
        var i = 0;
        if (carried > 0)
        {
            var (end, holdAt) = ExtendRegion(data, 0, carried, final);
            if (holdAt >= 0) { carried = end - holdAt; return holdAt; }
            i = end;
            carried = 0;
        }
        var copyFrom = i;
        while (i < data.Length)
        {
            var candidates = _byFirstByte[data[i]];
            if (candidates is null) { i++; continue; }
            var rest = data[i..];
            if (!final && rest.Length < _maxLength && IsProperPrefixOfOne(rest, candidates))
            {
                output.Write(data[copyFrom..i]);
                return i;
            }
            var matched = LongestMatch(rest, candidates);
            if (matched == 0) { i++; continue; }
            output.Write(data[copyFrom..i]);
            output.Write(Mask);
            var (regionEnd, hold) = ExtendRegion(data, i + 1, i + matched, final);
            if (hold >= 0) { carried = regionEnd - hold; return hold; }
            i = regionEnd;
            copyFrom = i;
        }
        output.Write(data[copyFrom..]);
        return data.Length;
    }

    /// <summary>
    /// Grows the masked region ending at <paramref name="end"/> by every match that starts inside it. Returns the
    /// new end, and the position to hold from (or -1) when a match starting inside might still complete.
    /// </summary>
    private (int End, int HoldAt) ExtendRegion(ReadOnlySpan<byte> data, int from, int end, bool final)
    {
        for (var j = from; j < end && j < data.Length; j++)
        {
            var candidates = _byFirstByte[data[j]];
            if (candidates is null) continue;
            var rest = data[j..];
            if (!final && rest.Length < _maxLength && IsProperPrefixOfOne(rest, candidates)) return (end, j);
            var matched = LongestMatch(rest, candidates);
            if (j + matched > end) end = j + matched;
        }
        return (end, -1);
    }

    private static int LongestMatch(ReadOnlySpan<byte> rest, byte[]?[] candidates)
    {
        foreach (var pattern in candidates) // longest first
            if (pattern!.Length <= rest.Length && rest[..pattern.Length].SequenceEqual(pattern))
                return pattern.Length;
        return 0;
    }

    private static bool IsProperPrefixOfOne(ReadOnlySpan<byte> tail, byte[]?[] candidates)
    {
        foreach (var pattern in candidates)
            if (pattern!.Length > tail.Length && pattern.AsSpan(0, tail.Length).SequenceEqual(tail))
                return true;
        return false;
    }

    /// <summary>Every textual form of <paramref name="secret"/> that is masked (before the minimum-length filter).</summary>
    public static IReadOnlyList<string> DerivePatterns(string secret)
    {
        var forms = new List<string>();
        if (string.IsNullOrEmpty(secret)) return forms;
        forms.Add(secret);
        var bytes = Encoding.UTF8.GetBytes(secret);

        var full = Convert.ToBase64String(bytes);
        forms.Add(full);
        forms.Add(UrlSafe(full));
        forms.Add(UrlSafe(full).TrimEnd('='));
        for (var offset = 0; offset < 3; offset++)
        {
            var core = Base64Core(bytes, offset);
            forms.Add(core);
            forms.Add(UrlSafe(core));
        }

        var escaped = Uri.EscapeDataString(secret);
        foreach (var percent in new[] { escaped, escaped.Replace("%2F", "/"), WebUtility.UrlEncode(secret) })
        {
            forms.Add(percent);
            forms.Add(LowerHex(percent));
        }

        forms.Add(JsonBody(JsonSerializer.Serialize(secret)));
        forms.Add(JsonBody(JsonSerializer.Serialize(secret, RelaxedJson)));

        if (secret.Contains('\n'))
        {
            foreach (var line in secret.Split('\n'))
            {
                var trimmed = line.TrimEnd('\r');
                if (trimmed.Length >= MinimumLength) forms.Add(trimmed);
            }
            forms.Add(secret.Replace("\r\n", "\n").Replace("\n", "\r\n"));
            forms.Add(secret.TrimEnd('\n', '\r'));
        }
        return forms.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The base64 characters that depend only on the secret when it starts <paramref name="offset"/> bytes into
    /// the encoded data: each character encodes 6 bits, so those whose bits lie wholly inside the secret's bits.
    /// </summary>
    private static string Base64Core(byte[] secret, int offset)
    {
        var data = new byte[offset + secret.Length];
        secret.CopyTo(data, offset);
        var encoded = Convert.ToBase64String(data);
        var first = (8 * offset + 5) / 6;
        var end = 8 * (offset + secret.Length) / 6;
        return end > first ? encoded[first..end] : "";
    }

    private static string UrlSafe(string base64) => base64.Replace('+', '-').Replace('/', '_');

    private static string LowerHex(string percentEncoded)
    {
        var chars = percentEncoded.ToCharArray();
        for (var i = 0; i + 2 < chars.Length; i++)
        {
            if (chars[i] != '%') continue;
            chars[i + 1] = char.ToLowerInvariant(chars[i + 1]);
            chars[i + 2] = char.ToLowerInvariant(chars[i + 2]);
        }
        return new string(chars);
    }

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string JsonBody(string quoted) => quoted[1..^1];
}
