using Slipway.Core.TestReports;

namespace Slipway.Core.Tests.TestReports;

public class TrxParsingTests
{
    // Shaped like the output of `dotnet test --logger trx` (trimmed).
    private const string Trx = """
        <?xml version="1.0" encoding="utf-8"?>
        <TestRun id="4c3f3a9e-8a6f-4c1a-9a0e-1f2b3c4d5e6f" name="root@host 2025-01-01 10:00:00" runUser="root" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
          <Times creation="2025-01-01T10:00:00.0000000+00:00" start="2025-01-01T10:00:00.0000000+00:00" finish="2025-01-01T10:00:01.0000000+00:00" />
          <TestSettings name="default" id="11111111-2222-3333-4444-555555555555"><Deployment runDeploymentRoot="root_host_2025" /></TestSettings>
          <Results>
            <UnitTestResult executionId="a1" testId="b1" testName="Demo.Tests.Adds" computerName="host" duration="00:00:00.0010000" startTime="2025-01-01T10:00:00.0000000+00:00" endTime="2025-01-01T10:00:00.0010000+00:00" testType="13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b" outcome="Passed" testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d" relativeResultsDirectory="a1" />
            <UnitTestResult executionId="a2" testId="b2" testName="Demo.Tests.Divides(x: 0)" computerName="host" duration="00:00:00.0200000" testType="13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b" outcome="Failed" testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d">
              <Output>
                <ErrorInfo>
                  <Message>Assert.Equal() Failure: Values differ
        Expected: 2
        Actual:   3</Message>
                  <StackTrace>   at Demo.Tests.Divides(Int32 x) in /src/Tests.cs:line 12</StackTrace>
                </ErrorInfo>
              </Output>
            </UnitTestResult>
            <UnitTestResult executionId="a3" testId="b3" testName="Demo.Tests.Later" computerName="host" duration="00:00:00" testType="13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b" outcome="NotExecuted" testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d">
              <Output><StdOut>Skipped: not yet</StdOut></Output>
            </UnitTestResult>
            <UnitTestResult executionId="a4" testId="b4" testName="Demo.Tests.Hangs" computerName="host" outcome="Timeout" testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d" />
          </Results>
          <TestDefinitions />
          <ResultSummary outcome="Failed">
            <Counters total="4" executed="3" passed="1" failed="1" error="0" timeout="1" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="1" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
          </ResultSummary>
        </TestRun>
        """;

    [Fact]
    public void Counts_outcomes()
    {
        var result = TestReportParser.Parse(Trx, "results.trx");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal((1, 2, 1), (result.Summary.Passed, result.Summary.Failed, result.Summary.Skipped));
    }

    [Fact]
    public void Failures_use_test_name_and_error_message()
    {
        var failures = TestReportParser.Parse(Trx, "results.trx").Summary!.Failures;

        Assert.Equal(2, failures.Count);
        Assert.Equal("Demo.Tests.Divides(x: 0)", failures[0].Name);
        Assert.StartsWith("Assert.Equal() Failure: Values differ", failures[0].Message);
        Assert.EndsWith("Actual:   3", failures[0].Message);
        Assert.Equal(new TestFailure("Demo.Tests.Hangs", ""), failures[1]);
    }
}
