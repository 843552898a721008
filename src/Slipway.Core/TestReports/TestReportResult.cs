using System.Diagnostics.CodeAnalysis;

namespace Slipway.Core.TestReports;

/// <summary>Outcome of parsing one report file: either a summary or a human-readable error.</summary>
public sealed record TestReportResult
{
    private TestReportResult(TestSummary? summary, string? error)
    {
        Summary = summary;
        Error = error;
    }

    public TestSummary? Summary { get; }
    public string? Error { get; }

    [MemberNotNullWhen(true, nameof(Summary))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Summary is not null;

    public static TestReportResult Ok(TestSummary summary) => new(summary, null);
    public static TestReportResult Fail(string error) => new(null, error);
}
