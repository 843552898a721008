using Slipway.Cli.Output;

namespace Slipway.Server.Tests.CliOutput;

/// <summary>The CLI's text output helpers as small table tests: counts in the right number, tables whose columns line up.</summary>
public sealed class CliOutputTests
{
    [Theory]
    [InlineData(0, "commit", null, "0 commits")]
    [InlineData(1, "commit", null, "1 commit")]
    [InlineData(2, "commit", null, "2 commits")]
    [InlineData(1, "entry", "entries", "1 entry")]
    [InlineData(7, "entry", "entries", "7 entries")]
    public void Counted_UsesTheSingularOnlyForOne(long count, string singular, string? plural, string expected) =>
        Assert.Equal(expected, Counted.Of(count, singular, plural));

    [Fact]
    public void TextTable_WidensEachColumnToItsLongestCell_AndNeverPadsTheLast()
    {
        var table = new TextTable(">ID", "NAME", "SCOPE")
            .Add("7", "ci", "run.read")
            .Add("12", "a-much-longer-name", null)
            .Add("3", "multi\nline", "");

        Assert.Equal(
        [
            "ID  NAME                SCOPE",
            " 7  ci                  run.read",
            "12  a-much-longer-name  -",
            " 3  multi line",
        ], table.Lines());
    }

    [Fact]
    public void TextTable_WithoutHeaders_PrintsOnlyTheRows_AndRefusesARowOfTheWrongWidth()
    {
        var table = TextTable.WithoutHeaders(2).Add("a", "b").Add("ccc", "d");

        Assert.Equal(["a    b", "ccc  d"], table.Lines());
        Assert.Throws<ArgumentException>(() => table.Add("only one"));
    }
}
