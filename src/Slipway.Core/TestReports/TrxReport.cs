using System.Xml.Linq;

namespace Slipway.Core.TestReports;

/// <summary>Reads Visual Studio / dotnet test TRX files.</summary>
internal static class TrxReport
{
    public static TestSummary Read(XElement root)
    {
        int passed = 0, failed = 0, skipped = 0;
        var failures = new List<TestFailure>();
        // Local names: real TRX uses the TeamTest/2010 namespace, but hand-written ones may omit it.
        foreach (var r in root.Descendants().Where(e => e.Name.LocalName == "UnitTestResult"))
        {
            switch (Classify((string?)r.Attribute("outcome")))
            {
                case Outcome.Passed:
                    passed++;
                    break;
                case Outcome.Skipped:
                    skipped++;
                    break;
                default:
                    failed++;
                    if (failures.Count < TestReportParser.MaxFailures)
                        failures.Add(new TestFailure((string?)r.Attribute("testName") ?? "(unnamed)", MessageOf(r)));
                    break;
            }
        }
        return new TestSummary(passed, failed, skipped, failures);
    }

    private enum Outcome { Passed, Failed, Skipped }

    /// <summary>
    /// TRX outcomes include Passed, Failed, NotExecuted, Inconclusive, Timeout, Aborted, Error, Warning...
    /// Anything that is neither clearly passed nor clearly not run counts as a failure, so problems are not hidden.
    /// </summary>
    private static Outcome Classify(string? outcome) => outcome switch
    {
        "Passed" or "PassedButRunAborted" => Outcome.Passed,
        "NotExecuted" or "NotRunnable" or "Disconnected" or "Pending" or "InProgress" or "Inconclusive" => Outcome.Skipped,
        _ => Outcome.Failed,
    };

    private static string MessageOf(XElement result)
    {
        var message = result.Elements().Where(e => e.Name.LocalName == "Output")
            .Elements().Where(e => e.Name.LocalName == "ErrorInfo")
            .Elements().FirstOrDefault(e => e.Name.LocalName == "Message");
        return TestReportParser.CleanMessage(message?.Value);
    }
}
