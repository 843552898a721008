using System.Text;
using System.Text.Json;

namespace Slipway.Core.Gates;

/// <summary>
/// Parses a load-test result file (k6, Artillery, autocannon, or Slipway's plain format) into metric values.
/// Files come from untrusted build output: parsing is strict (no comments, no trailing commas, depth
/// at most 32, at most 1 MiB and 10 000 values), never throws, and every error names the file.
/// Besides each metric under its own name, canonical metrics are derived when the file allows:
/// <c>http_req_duration</c> (ms), <c>requests</c> (count, rate /s) and <c>errors</c> (count, rate %),
/// so one rule works whichever tool produced the file.
/// </summary>
public static class MetricsParser
{
    public const int MaxBytes = 1024 * 1024;
    public const int MaxDepth = 32;

    private const string KnownFormats =
        "expected k6 summary JSON, an Artillery report, autocannon JSON, or {\"metrics\": {NAME: {STAT: NUMBER, \"unit\": \"ms\"}}}";

    /// <summary>Parses <paramref name="text"/>; <paramref name="fileName"/> is only used in messages. Never throws.</summary>
    public static MetricsParseResult Parse(string fileName, string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Fail(fileName, "is empty");
        // Length first: a string of more than MaxBytes chars is over the limit in any encoding.
        if (text.Length > MaxBytes || Encoding.UTF8.GetByteCount(text) > MaxBytes)
            return Fail(fileName, "larger than 1 MiB");

        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions
            {
                MaxDepth = MaxDepth,
                CommentHandling = JsonCommentHandling.Disallow,
                AllowTrailingCommas = false,
            });
            return Read(fileName, doc.RootElement);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line && ex.BytePositionInLine is { } column
                ? $" (line {line + 1}, column {column + 1})"
                : "";
            return Fail(fileName, $"not valid JSON{where}: {WithoutPosition(ex.Message)}");
        }
        catch (MetricsFormatException ex)
        {
            return Fail(fileName, ex.Message);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            // The readers check shapes before reading; this is a safety net so a surprise never becomes a 500.
            return Fail(fileName, $"could not read metrics: {ex.Message}");
        }
    }

    private static MetricsParseResult Read(string fileName, JsonElement root)
    {
        var (format, read) = Detect(root);
        if (format is null || read is null)
            return Fail(fileName, $"not a known metrics format ({KnownFormats})");

        var collector = new MetricsCollector();
        read(root, collector);
        return collector.Values.Count == 0
            ? Fail(fileName, "no metric values", format)
            : new MetricsParseResult(format, collector.Values, null);
    }

    // Order matters: k6 before plain, since both keep their metrics under "metrics".
    private static (string? Format, Action<JsonElement, MetricsCollector>? Read) Detect(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return (null, null);
        if (K6Reader.Recognises(root)) return ("k6", K6Reader.Read);
        if (ArtilleryReader.Recognises(root)) return ("artillery", ArtilleryReader.Read);
        if (AutocannonReader.Recognises(root)) return ("autocannon", AutocannonReader.Read);
        if (PlainReader.Recognises(root)) return ("plain", PlainReader.Read);
        return (null, null);
    }

    /// <summary>System.Text.Json appends a 0-based "LineNumber: 2 | BytePositionInLine: 4." that would contradict ours.</summary>
    private static string WithoutPosition(string message)
    {
        var i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (i >= 0 ? message[..i] : message).Trim();
    }

    private static MetricsParseResult Fail(string fileName, string problem, string? format = null) =>
        new(format, [], $"{fileName}: {problem}");
}
