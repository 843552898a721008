using System.Xml;
using System.Xml.Linq;

namespace Slipway.Core.TestReports;

/// <summary>
/// Parses JUnit XML and Visual Studio TRX reports into a <see cref="TestSummary"/>.
/// Reports come from untrusted build output, so parsing never throws and never resolves DTDs or entities.
/// </summary>
public static class TestReportParser
{
    public const int MaxFailures = 50;
    public const int MaxMessageLength = 2_000;

    /// <summary>Parses <paramref name="content"/>; <paramref name="fileName"/> is only used in error messages.</summary>
    public static TestReportResult Parse(string content, string fileName)
    {
        XDocument doc;
        try
        {
            doc = Load(content);
        }
        catch (Exception ex) when (ex is XmlException or InvalidOperationException)
        {
            return TestReportResult.Fail($"{fileName}: not a valid XML test report: {ex.Message}");
        }

        var root = doc.Root;
        if (root is null)
            return TestReportResult.Fail($"{fileName}: empty document");

        try
        {
            return root.Name.LocalName switch
            {
                "testsuites" or "testsuite" => TestReportResult.Ok(JUnitReport.Read(root)),
                "TestRun" => TestReportResult.Ok(TrxReport.Read(root)),
                var other => TestReportResult.Fail(
                    $"{fileName}: unknown report format (root element <{other}>; expected JUnit <testsuites>/<testsuite> or TRX <TestRun>)"),
            };
        }
        catch (Exception ex) when (ex is XmlException or FormatException or InvalidOperationException)
        {
            return TestReportResult.Fail($"{fileName}: could not read test report: {ex.Message}");
        }
    }

    /// <summary>Adds counts of several summaries, keeping at most <see cref="MaxFailures"/> failure details.</summary>
    public static TestSummary Merge(IEnumerable<TestSummary> summaries)
    {
        int passed = 0, failed = 0, skipped = 0;
        var failures = new List<TestFailure>();
        foreach (var s in summaries)
        {
            passed += s.Passed;
            failed += s.Failed;
            skipped += s.Skipped;
            foreach (var f in s.Failures)
            {
                if (failures.Count >= MaxFailures) break;
                failures.Add(f);
            }
        }
        return new TestSummary(passed, failed, skipped, failures);
    }

    private static XDocument Load(string content)
    {
        // Prohibit DTDs outright: this blocks XXE (external entities) and entity-expansion bombs.
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = 50_000_000,
            MaxCharactersFromEntities = 0,
        };
        using var text = new StringReader(content);
        using var reader = XmlReader.Create(text, settings);
        return XDocument.Load(reader, LoadOptions.None);
    }

    /// <summary>Trims and truncates a failure message so one noisy test cannot bloat the stored summary.</summary>
    internal static string CleanMessage(string? message)
    {
        var m = (message ?? "").Trim();
        return m.Length <= MaxMessageLength ? m : m[..MaxMessageLength];
    }
}
