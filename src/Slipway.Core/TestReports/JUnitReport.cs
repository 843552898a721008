using System.Globalization;
using System.Xml.Linq;

namespace Slipway.Core.TestReports;

/// <summary>Reads the de-facto JUnit XML format (as written by Surefire, pytest, jest-junit, go-junit-report...).</summary>
internal static class JUnitReport
{
    public static TestSummary Read(XElement root)
    {
        // Namespaces are rare in JUnit files but not unheard of, so match on local names only.
        var cases = root.DescendantsAndSelf().Where(e => e.Name.LocalName == "testcase").ToList();
        if (cases.Count == 0)
            return FromAttributes(root);

        int passed = 0, failed = 0, skipped = 0;
        var failures = new List<TestFailure>();
        foreach (var tc in cases)
        {
            var problem = tc.Elements().FirstOrDefault(e => e.Name.LocalName is "failure" or "error");
            if (problem is not null)
            {
                failed++;
                if (failures.Count < TestReportParser.MaxFailures)
                    failures.Add(new TestFailure(NameOf(tc), MessageOf(problem)));
            }
            else if (tc.Elements().Any(e => e.Name.LocalName == "skipped"))
            {
                skipped++;
            }
            else
            {
                passed++;
            }
        }
        return new TestSummary(passed, failed, skipped, failures);
    }

    private static string NameOf(XElement testcase)
    {
        var cls = (string?)testcase.Attribute("classname");
        var name = (string?)testcase.Attribute("name") ?? "(unnamed)";
        return string.IsNullOrWhiteSpace(cls) ? name : $"{cls}.{name}";
    }

    private static string MessageOf(XElement problem)
    {
        var message = (string?)problem.Attribute("message");
        return TestReportParser.CleanMessage(string.IsNullOrWhiteSpace(message) ? problem.Value : message);
    }

    /// <summary>
    /// Without any testcase elements the only information is the suite attributes
    /// (tests/failures/errors/skipped). Only the outermost suites are counted, to avoid double counting.
    /// </summary>
    private static TestSummary FromAttributes(XElement root)
    {
        var suites = root.Name.LocalName == "testsuite"
            ? [root]
            : root.Elements().Where(e => e.Name.LocalName == "testsuite").ToList();
        if (suites.Count == 0)
            suites = [root];

        int tests = 0, failed = 0, skipped = 0;
        foreach (var s in suites)
        {
            tests += Int(s, "tests");
            failed += Int(s, "failures") + Int(s, "errors");
            skipped += Int(s, "skipped") + Int(s, "disabled");
        }
        return new TestSummary(Math.Max(0, tests - failed - skipped), failed, skipped, []);
    }

    private static int Int(XElement e, string attribute) =>
        int.TryParse((string?)e.Attribute(attribute), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 0;
}
