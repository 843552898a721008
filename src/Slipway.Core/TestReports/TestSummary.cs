namespace Slipway.Core.TestReports;

/// <summary>Counts from one or more JUnit XML / TRX files, with (bounded) failure details.</summary>
public sealed record TestSummary(int Passed, int Failed, int Skipped, IReadOnlyList<TestFailure> Failures)
{
    public static readonly TestSummary Empty = new(0, 0, 0, []);
    public int Total => Passed + Failed + Skipped;
}

public sealed record TestFailure(string Name, string Message);
