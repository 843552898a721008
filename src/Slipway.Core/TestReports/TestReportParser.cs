namespace Slipway.Core.TestReports;
// placeholder until the reports branch lands
public sealed record TestReportResult(TestSummary? Summary, string? Error);
public static class TestReportParser
{
    public static TestReportResult Parse(string content, string fileName) => throw new NotImplementedException();
    public static TestSummary Merge(IEnumerable<TestSummary> summaries) => throw new NotImplementedException();
}
