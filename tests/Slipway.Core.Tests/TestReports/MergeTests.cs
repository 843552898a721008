using Slipway.Core.TestReports;

namespace Slipway.Core.Tests.TestReports;

public class MergeTests
{
    private static TestSummary Failing(int count, string prefix) =>
        new(1, count, 2, Enumerable.Range(0, count).Select(i => new TestFailure($"{prefix}{i}", "boom")).ToList());

    [Fact]
    public void Adds_counts_and_keeps_failures_in_order()
    {
        var merged = TestReportParser.Merge([Failing(2, "a"), TestSummary.Empty, Failing(1, "b")]);

        Assert.Equal((2, 3, 4), (merged.Passed, merged.Failed, merged.Skipped));
        Assert.Equal(["a0", "a1", "b0"], merged.Failures.Select(f => f.Name));
    }

    [Fact]
    public void Keeps_at_most_fifty_failures_in_total()
    {
        var merged = TestReportParser.Merge([Failing(40, "a"), Failing(40, "b")]);

        Assert.Equal(80, merged.Failed);
        Assert.Equal(50, merged.Failures.Count);
        Assert.Equal("b9", merged.Failures[^1].Name);
    }

    [Fact]
    public void Merging_nothing_gives_an_empty_summary()
    {
        var merged = TestReportParser.Merge([]);

        Assert.Equal(0, merged.Total);
        Assert.Empty(merged.Failures);
    }
}
