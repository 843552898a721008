using System.Text;

namespace Slipway.Core.Gates;

/// <summary>
/// What a sign-off may carry as evidence: screenshots (PNG, JPEG, WebP), a PDF or a plain-text note, at most
/// <see cref="MaxBytes"/> each and <see cref="MaxPerSignOff"/> per sign-off. The type is read from the file's first bytes,
/// never from its name or the header a browser sent: an HTML page named shot.png is kept as plain text and only ever
/// served as a download, never rendered; an archive or an executable is refused.
/// </summary>
public static class AttachmentRules
{
    public const int MaxBytes = 5 * 1024 * 1024;
    public const int MaxPerSignOff = 10;
    public const int MaxNameLength = 120;

    /// <summary>The content type of <paramref name="content"/>, or null when it is none of the allowed kinds.</summary>
    public static string? Sniff(ReadOnlySpan<byte> content)
    {
        if (content.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])) return "image/png";
        if (content.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return "image/jpeg";
        if (content.Length >= 12 && content[..4].SequenceEqual("RIFF"u8) && content[8..12].SequenceEqual("WEBP"u8)) return "image/webp";
        if (content.StartsWith("%PDF-"u8)) return "application/pdf";
        return IsPlainText(content) ? "text/plain; charset=utf-8" : null;
    }

    /// <summary>Whether an image is shown inline; anything else is only ever downloaded.</summary>
    public static bool IsImage(string contentType) => contentType.StartsWith("image/", StringComparison.Ordinal);

    /// <summary>Checks a file name as given (a display name only: files are stored by their digest); null when it is fine.</summary>
    public static string? CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "name the attachment (e.g. ?name=basket.png)"
        : name.Length > MaxNameLength ? $"an attachment's name is at most {MaxNameLength} characters"
        : name.Any(c => char.IsControl(c) || c is '/' or '\\' or '"') ? "an attachment's name may not contain '/', '\\', '\"' or control characters"
        : null;

    public const string Allowed = "PNG, JPEG or WebP images, a PDF, or plain UTF-8 text";

    // Plain text: valid UTF-8 without NUL or other control characters than tab, newline and carriage return.
    private static bool IsPlainText(ReadOnlySpan<byte> content)
    {
        if (content.Length == 0) return false;
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
            return !text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r'));
        }
        catch (DecoderFallbackException) { return false; }
    }
}
