using Slipway.Core.Gates;

namespace Slipway.Core.Tests.Gates;

public class MetricsParserErrorTests
{
    private const string File = "perf/summary.json";

    [Theory]
    [InlineData("", "perf/summary.json: is empty")]
    [InlineData("   \n\t ", "perf/summary.json: is empty")]
    [InlineData("{}", "perf/summary.json: not a known metrics format (expected k6 summary JSON, an Artillery report, autocannon JSON, or {\"metrics\": {NAME: {STAT: NUMBER, \"unit\": \"ms\"}}})")]
    [InlineData("[1, 2]", "perf/summary.json: not a known metrics format")]
    [InlineData("42", "perf/summary.json: not a known metrics format")]
    [InlineData("""{"metrics": {}}""", "perf/summary.json: no metric values")]
    [InlineData("""{"metrics": {"x": {"unit": "ms"}}}""", "perf/summary.json: no metric values")]
    [InlineData("""{"metrics": {"x": {"p95": "212"}}}""", "perf/summary.json: metric 'x' stat 'p95' is not a number")]
    [InlineData("""{"metrics": {"x": {"p95": "NaN"}}}""", "perf/summary.json: metric 'x' stat 'p95' is not a number")]
    [InlineData("""{"metrics": {"x": {"p95": "Infinity"}}}""", "perf/summary.json: metric 'x' stat 'p95' is not a number")]
    [InlineData("""{"metrics": {"x": {"p95": null}}}""", "perf/summary.json: metric 'x' stat 'p95' is not a number")]
    [InlineData("""{"metrics": {"x": {"p95": 1e400}}}""", "perf/summary.json: metric 'x' stat 'p95' is not a finite number")]
    [InlineData("""{"metrics": {"x": {"p95": {"a": 1}}}}""", "perf/summary.json: metric 'x' stat 'p95' is not a number")]
    [InlineData("""{"metrics": {"x": 5}}""", "perf/summary.json: metric 'x' is not an object of stats")]
    [InlineData("""{"metrics": {"x": {"p95": 1, "unit": 3}}}""", "perf/summary.json: metric 'x' unit is not a string")]
    [InlineData("""{"root_group": {}, "metrics": {"http_reqs": {"values": {"count": "many"}}}}""", "perf/summary.json: metric 'http_reqs' stat 'count' is not a number")]
    [InlineData("""{"aggregate": {"counters": {"http.requests": true}}}""", "perf/summary.json: metric 'http.requests' stat 'count' is not a number")]
    public void Parse_BadInput_GivesErrorNamingFileAndProblem(string text, string expectedStart)
    {
        var result = MetricsParser.Parse(File, text);

        Assert.False(result.Ok);
        Assert.Empty(result.Values);
        Assert.StartsWith(expectedStart, result.Error);
    }

    [Theory]
    [InlineData("{\n  \"metrics\": {\n    \"x\": {\"p95\": NaN}\n  }\n}", 3, 18)]
    [InlineData("{\"metrics\": {\"x\": {\"p95\": Infinity}}}", 1, 27)]
    [InlineData("{\"metrics\": {\"x\": {\"p95\": 1,}}}", 1, 29)]
    [InlineData("{\"metrics\": // comment\n {}}", 1, 13)]
    [InlineData("{\"metrics\": {", 1, 14)]
    public void Parse_MalformedJson_ReportsOneBasedLineAndColumn(string text, int line, int column)
    {
        var result = MetricsParser.Parse(File, text);

        Assert.False(result.Ok);
        Assert.StartsWith($"perf/summary.json: not valid JSON (line {line}, column {column}): ", result.Error);
        Assert.DoesNotContain("LineNumber", result.Error);
    }

    [Fact]
    public void Parse_LargerThanOneMebibyte_IsRefusedBeforeParsing()
    {
        var text = "{\"metrics\": {\"x\": {\"p95\": 1}}, \"pad\": \"" + new string('a', MetricsParser.MaxBytes) + "\"}";

        Assert.Equal("perf/summary.json: larger than 1 MiB", MetricsParser.Parse(File, text).Error);
    }

    [Fact]
    public void Parse_MultiByteTextOverOneMebibyteInUtf8_IsRefused()
    {
        // 400 000 chars of 3-byte UTF-8 is 1.2 MB, though the string is shorter than MaxBytes chars.
        var text = "{\"metrics\": {\"x\": {\"p95\": 1}}, \"pad\": \"" + new string('€', 400_000) + "\"}";

        Assert.Equal("perf/summary.json: larger than 1 MiB", MetricsParser.Parse(File, text).Error);
    }

    [Fact]
    public void Parse_NestingDepthBomb_IsRefused()
    {
        var text = new string('[', 10_000) + new string(']', 10_000);

        var result = MetricsParser.Parse(File, text);

        Assert.False(result.Ok);
        Assert.StartsWith("perf/summary.json: not valid JSON (line 1, column ", result.Error);
        Assert.Contains("depth", result.Error);
    }

    [Fact]
    public void Parse_MoreThanTenThousandValues_IsRefused()
    {
        var stats = string.Join(",", Enumerable.Range(0, 10_001).Select(i => $"\"s{i}\": {i}"));

        var result = MetricsParser.Parse(File, $"{{\"metrics\": {{\"x\": {{{stats}}}}}}}");

        Assert.Equal("perf/summary.json: more than 10 000 metric values", result.Error);
    }

    [Fact]
    public void Parse_ExactlyTenThousandValues_IsAccepted()
    {
        var stats = string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"\"s{i}\": {i}"));

        var result = MetricsParser.Parse(File, $"{{\"metrics\": {{\"x\": {{{stats}}}}}}}");

        Assert.True(result.Ok, result.Error);
        Assert.Equal(10_000, result.Values.Count);
    }
}
