namespace Slipway.Cli.Output;

/// <summary>
/// A plain-text table: each column as wide as its widest cell (header included), two spaces between columns, the last
/// column never padded. Terminals and pipes get the same lines, so scripts can rely on them; long cells widen their
/// column instead of running into the next one. Not thread-safe: build and write it on one thread.
/// </summary>
public sealed class TextTable
{
    private const string Gap = "  ";
    private readonly string[]? _headers;
    private readonly bool[] _rightAligned;
    private readonly List<string[]> _rows = [];

    /// <param name="headers">Column headings, printed as the first line; a heading starting with '>' right-aligns its column (the '>' is not printed).</param>
    public TextTable(params string[] headers)
    {
        _rightAligned = headers.Select(h => h.StartsWith('>')).ToArray();
        _headers = headers.Select(h => h.TrimStart('>')).ToArray();
    }

    /// <summary>A table without a heading line (<paramref name="columns"/> columns, all left-aligned).</summary>
    public static TextTable WithoutHeaders(int columns) => new(columns);

    private TextTable(int columns) => _rightAligned = new bool[columns];

    public int Columns => _rightAligned.Length;

    /// <summary>Adds a row of exactly <see cref="Columns"/> cells; null prints as "-", line breaks as spaces.</summary>
    public TextTable Add(params string?[] cells)
    {
        if (cells.Length != Columns) throw new ArgumentException($"a row of this table has {Columns} cells, not {cells.Length}", nameof(cells));
        _rows.Add(cells.Select(c => c is null ? "-" : c.ReplaceLineEndings(" ")).ToArray());
        return this;
    }

    public IReadOnlyList<string> Lines()
    {
        var all = _headers is null ? _rows : [_headers, .. _rows];
        var widths = Enumerable.Range(0, Columns).Select(i => all.Count == 0 ? 0 : all.Max(r => r[i].Length)).ToArray();
        return all.Select(row => string.Join(Gap, row.Select((cell, i) =>
            _rightAligned[i] ? cell.PadLeft(widths[i]) : i == Columns - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd()).ToList();
    }

    public void Write(TextWriter writer)
    {
        foreach (var line in Lines()) writer.WriteLine(line);
    }

    public void WriteToConsole() => Write(Console.Out);
}
