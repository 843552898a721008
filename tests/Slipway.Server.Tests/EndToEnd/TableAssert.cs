namespace Slipway.Server.Tests.EndToEnd;

/// <summary>Checks a table the CLI printed: every row's cells start exactly where their column's heading starts.</summary>
public static class TableAssert
{
    /// <summary>
    /// Finds the heading line starting with <paramref name="heading"/> and checks the rows below it (up to the first empty
    /// line): each column after the first (first columns may be right-aligned) starts under its heading, after a space.
    /// Returns the rows.
    /// </summary>
    public static IReadOnlyList<string> Aligned(string output, string heading)
    {
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        var at = Array.FindIndex(lines, l => l.StartsWith(heading, StringComparison.Ordinal));
        Assert.True(at >= 0, $"no line starts with '{heading}' in:\n{output}");
        var header = lines[at];
        var starts = Enumerable.Range(2, Math.Max(0, header.Length - 2))
            .Where(i => header[i] != ' ' && header[i - 1] == ' ' && header[i - 2] == ' ').ToList();
        var rows = lines.Skip(at + 1).TakeWhile(l => l.Length > 0).ToList();
        Assert.NotEmpty(rows);
        foreach (var row in rows)
            foreach (var start in starts)
                Assert.True(row.Length > start && row[start - 1] == ' ' && row[start] != ' ',
                    $"the column at {start} of '{header}' does not line up in row '{row}' of:\n{output}");
        return rows;
    }
}
