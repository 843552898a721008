using System.Text;

namespace Slipway.Core.Logs;

/// <summary>
/// Turns raw log bytes (anything a job printed: invalid UTF-8, NULs, control bytes) into text that is
/// safe to show. Pure. Works on slices of a log: <see cref="SafeLength"/> ends a slice on a UTF-8
/// character boundary so a multi-byte character is never split between two pages.
/// </summary>
public static class LogText
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>
    /// Decodes with U+FFFD for invalid bytes and replaces control characters except \n and \t. With
    /// <paramref name="keepEscapes"/> the escape character (U+001B) is kept too, so a reader that interprets ANSI colour
    /// codes itself (the web UI, which shows them as styled text, never as markup) gets them; terminals never do.
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes, bool keepEscapes = false)
    {
        var text = Utf8.GetString(bytes);
        return NeedsCleaning(text, keepEscapes) ? Clean(text, keepEscapes) : text;
    }

    /// <summary>
    /// The longest prefix of <paramref name="bytes"/> that does not end inside a UTF-8 sequence
    /// nor on a \r that may be the first half of \r\n, unless the slice is the log's end
    /// (<paramref name="isEnd"/>) or no boundary is near.
    /// </summary>
    public static int SafeLength(ReadOnlySpan<byte> bytes, bool isEnd)
    {
        if (isEnd || bytes.Length == 0) return bytes.Length;
        // A \r\n split between pages would decode as two line ends ("\n" + "\n"): keep the \r for the next page.
        if (bytes[^1] == (byte)'\r') return bytes.Length - 1;
        // Look back at most 4 bytes for the lead byte of the last sequence.
        for (var back = 1; back <= Math.Min(4, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0b1100_0000) == 0b1000_0000) continue; // continuation byte
            var needed = (b & 0b1000_0000) == 0 ? 1
                : (b & 0b1110_0000) == 0b1100_0000 ? 2
                : (b & 0b1111_0000) == 0b1110_0000 ? 3
                : (b & 0b1111_1000) == 0b1111_0000 ? 4 : 1;
            return needed > back ? bytes.Length - back : bytes.Length;
        }
        return bytes.Length;
    }

    private static bool Kept(char c, bool keepEscapes) => c == '\n' || c == '\t' || keepEscapes && c == Escape;

    private const char Escape = '\u001b';

    private static bool NeedsCleaning(string text, bool keepEscapes)
    {
        foreach (var c in text)
            if (c < 0x20 && !Kept(c, keepEscapes) || c == 0x7f) return true;
        return false;
    }

    private static string Clean(string text, bool keepEscapes)
    {
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\r')
            {
                // \r\n is a line end; a lone \r (progress bars) becomes a line end too.
                if (i + 1 < text.Length && text[i + 1] == '\n') continue;
                sb.Append('\n');
            }
            else if (c < 0x20 && !Kept(c, keepEscapes) || c == 0x7f) sb.Append('\uFFFD');
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
