using Slipway.Contracts.Agents;
using Slipway.Core.TestReports;

namespace Slipway.Agent.Execution;

/// <summary>Finds the job's report files and parses them (JUnit XML, TRX) into one summary.</summary>
public static class ReportCollector
{
    private const long MaxReportBytes = 50L * 1024 * 1024;

    public sealed record Collected(TestSummaryDto? Summary, IReadOnlyList<string> Errors);

    public static async Task<Collected> CollectAsync(Workspace workspace, IReadOnlyList<string> globs, CancellationToken ct)
    {
        var files = workspace.Find(globs);
        if (files.Count == 0) return new Collected(null, globs.Count > 0 ? [$"no files matched {string.Join(", ", globs)}"] : []);
        var summaries = new List<TestSummary>();
        var errors = new List<string>();
        foreach (var relative in files)
        {
            var path = workspace.SafePath(relative);
            if (new FileInfo(path).Length > MaxReportBytes) { errors.Add($"{relative}: larger than 50 MB, not parsed"); continue; }
            var parsed = TestReportParser.Parse(await File.ReadAllTextAsync(path, ct), relative);
            if (parsed.Summary is { } s) summaries.Add(s);
            else errors.Add($"{relative}: {parsed.Error}");
        }
        if (summaries.Count == 0) return new Collected(null, errors);
        var total = TestReportParser.Merge(summaries);
        return new Collected(new TestSummaryDto(total.Passed, total.Failed, total.Skipped,
            total.Failures.Select(f => new TestFailureDto(f.Name, f.Message)).ToList()), errors);
    }
}
