using Slipway.Core.TestReports;

namespace Slipway.Core.Tests.TestReports;

public class JUnitParsingTests
{
    private const string Nested = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites tests="999" failures="999">
          <testsuite name="outer" tests="3">
            <testcase classname="app.MathTest" name="adds" time="0.01"/>
            <testcase classname="app.MathTest" name="divides">
              <failure message="expected 2 but was 3" type="AssertionError">stack trace here</failure>
            </testcase>
            <testsuite name="inner">
              <testcase classname="app.Io" name="reads">
                <error type="IOException">
                  disk on fire
                </error>
              </testcase>
              <testcase classname="app.Io" name="writes"><skipped/></testcase>
              <testcase name="no_class"/>
            </testsuite>
          </testsuite>
        </testsuites>
        """;

    [Fact]
    public void Counts_testcases_in_nested_suites_not_the_attributes()
    {
        var result = TestReportParser.Parse(Nested, "junit.xml");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(2, result.Summary.Passed);
        Assert.Equal(2, result.Summary.Failed);
        Assert.Equal(1, result.Summary.Skipped);
    }

    [Fact]
    public void Failure_uses_message_attribute_and_error_uses_trimmed_text()
    {
        var failures = TestReportParser.Parse(Nested, "junit.xml").Summary!.Failures;

        Assert.Equal(
            [new TestFailure("app.MathTest.divides", "expected 2 but was 3"), new TestFailure("app.Io.reads", "disk on fire")],
            failures);
    }

    [Fact]
    public void Single_testsuite_root_is_accepted()
    {
        var xml = """<testsuite name="s"><testcase classname="c" name="a"/><testcase classname="c" name="b"><skipped message="later"/></testcase></testsuite>""";

        var summary = TestReportParser.Parse(xml, "r.xml").Summary!;

        Assert.Equal((1, 0, 1), (summary.Passed, summary.Failed, summary.Skipped));
    }

    [Fact]
    public void Without_testcases_the_suite_attributes_are_used()
    {
        var xml = """<testsuites><testsuite tests="10" failures="2" errors="1" skipped="3"/><testsuite tests="1"/></testsuites>""";

        var summary = TestReportParser.Parse(xml, "r.xml").Summary!;

        Assert.Equal((5, 3, 3), (summary.Passed, summary.Failed, summary.Skipped));
    }

    [Fact]
    public void Long_messages_are_truncated()
    {
        var xml = $"""<testsuite><testcase classname="c" name="n"><failure>{new string('x', 5000)}</failure></testcase></testsuite>""";

        var failure = Assert.Single(TestReportParser.Parse(xml, "r.xml").Summary!.Failures);

        Assert.Equal(TestReportParser.MaxMessageLength, failure.Message.Length);
    }

    [Fact]
    public void At_most_fifty_failures_are_kept_but_all_are_counted()
    {
        var cases = string.Concat(Enumerable.Range(0, 120).Select(i => $"""<testcase classname="c" name="t{i}"><failure message="m{i}"/></testcase>"""));

        var summary = TestReportParser.Parse($"<testsuite>{cases}</testsuite>", "r.xml").Summary!;

        Assert.Equal(120, summary.Failed);
        Assert.Equal(50, summary.Failures.Count);
        Assert.Equal("c.t0", summary.Failures[0].Name);
    }
}
