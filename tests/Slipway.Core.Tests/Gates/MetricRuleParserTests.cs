using Slipway.Core.Gates;

namespace Slipway.Core.Tests.Gates;

public class MetricRuleParserTests
{
    // text, metric, stat, op, threshold, unit, relative, normalised text
    public static TheoryData<string, string, string, Comparison, double, string?, bool, string> Valid => new()
    {
        { "http_req_duration p95 < 300 ms", "http_req_duration", "p95", Comparison.Less, 300, "ms", false, "http_req_duration p95 < 300 ms" },
        { "  http_req_duration   p95<300ms ", "http_req_duration", "p95", Comparison.Less, 300, "ms", false, "http_req_duration p95 < 300 ms" },
        { "errors rate < 0.1 %", "errors", "rate", Comparison.Less, 0.1, "%", false, "errors rate < 0.1 %" },
        { "requests rate >= 500/s", "requests", "rate", Comparison.GreaterOrEqual, 500, "/s", false, "requests rate >= 500/s" },
        { "requests rate >= 500 /s", "requests", "rate", Comparison.GreaterOrEqual, 500, "/s", false, "requests rate >= 500/s" },
        { "http_req_duration p99 <= 1.5 s", "http_req_duration", "p99", Comparison.LessOrEqual, 1.5, "s", false, "http_req_duration p99 <= 1.5 s" },
        { "checks rate >= 99 %", "checks", "rate", Comparison.GreaterOrEqual, 99, "%", false, "checks rate >= 99 %" },
        { "requests count > 1000", "requests", "count", Comparison.Greater, 1000, null, false, "requests count > 1000" },
        { "http.response_time p(95) < 300", "http.response_time", "p95", Comparison.Less, 300, null, false, "http.response_time p95 < 300" },
        { "my-app:latency med <= 40.50 ms", "my-app:latency", "p50", Comparison.LessOrEqual, 40.5, "ms", false, "my-app:latency p50 <= 40.5 ms" },
        { "http_req_duration p95 <= 1.10 x baseline", "http_req_duration", "p95", Comparison.LessOrEqual, 1.1, null, true, "http_req_duration p95 <= 1.1 × baseline" },
        { "http_req_duration p95 <= 1.1×baseline", "http_req_duration", "p95", Comparison.LessOrEqual, 1.1, null, true, "http_req_duration p95 <= 1.1 × baseline" },
        { "requests rate >= 0.9 * baseline", "requests", "rate", Comparison.GreaterOrEqual, 0.9, null, true, "requests rate >= 0.9 × baseline" },
        { "http_req_duration p95 ≤ 1.2 x baseline", "http_req_duration", "p95", Comparison.LessOrEqual, 1.2, null, true, "http_req_duration p95 <= 1.2 × baseline" },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parse_ValidRule_ReadsEveryPart(string text, string metric, string stat, Comparison op, double threshold, string? unit, bool relative, string normalised)
    {
        var rule = MetricRuleParser.Parse(text);

        Assert.Equal(new MetricRule(metric, stat, op, threshold, unit, relative, normalised), rule);
    }

    [Fact]
    public void Parse_NormalisedText_ParsesBackToTheSameRule()
    {
        var rule = MetricRuleParser.Parse("http_req_duration p95 <= 1.10 x baseline");

        Assert.Equal(rule, MetricRuleParser.Parse(rule.Text));
    }

    [Theory]
    [InlineData("", "rule is empty")]
    [InlineData("   ", "rule is empty")]
    [InlineData("http_req_duration p95 300 ms", "has no comparison (<, <=, > or >=)")]
    [InlineData("http_req_duration p95 = 300 ms", "'=' is not a comparison")]
    [InlineData("http_req_duration p95 == 300 ms", "'==' is not a comparison")]
    [InlineData("http_req_duration p95 != 300 ms", "'!=' is not a comparison")]
    [InlineData("http_req_duration p95 <> 300 ms", "'<>' is not a comparison")]
    [InlineData("p95 < 300 ms", "needs a metric and a statistic before the comparison (found 1 words)")]
    [InlineData("http req duration p95 < 300 ms", "needs a metric and a statistic before the comparison (found 4 words)")]
    [InlineData("http/req p95 < 300 ms", "metric name 'http/req' may only contain letters, digits")]
    [InlineData("http_req_duration p95 <", "has no threshold after '<'")]
    [InlineData("http_req_duration p95 < fast", "does not start with a number")]
    [InlineData("http_req_duration p95 < -5 ms", "does not start with a number")]
    [InlineData("http_req_duration p95 < 1.2.3 ms", "'1.2.3' is not a number")]
    [InlineData("http_req_duration p95 < 300 minutes", "unknown unit 'minutes'; use ms, s, %, /s or none")]
    [InlineData("http_req_duration p95 < 1.1 baseline", "write the factor as 'FACTOR x baseline'")]
    [InlineData("http_req_duration p95 < 0 x baseline", "factor '0' is not a positive number")]
    [InlineData("http_req_duration p95 < two x baseline", "factor 'two' is not a positive number")]
    public void TryParse_InvalidRule_SaysWhatIsWrong(string text, string expected)
    {
        Assert.False(MetricRuleParser.TryParse(text, out var rule, out var error));
        Assert.Null(rule);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Parse_InvalidRule_ThrowsFormatExceptionWithAnExample()
    {
        var ex = Assert.Throws<FormatException>(() => MetricRuleParser.Parse("latency fast"));

        Assert.Contains("'http_req_duration p95 < 300 ms'", ex.Message);
    }

    [Fact]
    public void TryParse_OverlongRule_IsRefused()
    {
        Assert.False(MetricRuleParser.TryParse("a p95 < 1" + new string(' ', 400) + "ms", out _, out var error));
        Assert.Contains("longer than 300 characters", error);
    }

    [Theory]
    [InlineData("http_req_duration p95 < 300 ms", "http_req_duration p95 < 0.3 s", false)] // alike only for values reported with a unit
    [InlineData("http_req_duration p95 < 300 ms", "http_req_duration  p(95)<300ms", true)]
    [InlineData("http_req_duration p95 <= 1.1 x baseline", "http_req_duration p95 <= 1.10 × baseline", true)]
    [InlineData("http_req_duration p95 < 300 ms", "http_req_duration p95 <= 300 ms", false)]
    [InlineData("http_req_duration p95 < 300 ms", "http_req_duration p99 < 300 ms", false)]
    [InlineData("http_req_duration p95 < 300 ms", "http_req_duration p95 < 300", false)]
    [InlineData("http_req_duration p95 < 300 ms", "http_req_duration p95 < 301 ms", false)]
    [InlineData("errors rate < 1 %", "errors rate < 1/s", false)]
    public void SameAs_ComparesTheCondition_NotTheSpelling(string one, string other, bool same)
    {
        Assert.Equal(same, MetricRuleParser.Parse(one).SameAs(MetricRuleParser.Parse(other)));
        Assert.Equal(same, MetricRuleParser.Parse(other).SameAs(MetricRuleParser.Parse(one)));
        var gate = new GateDefinition(1, GateKind.Metric, "staging", MetricRuleParser.Parse(one), null, null);
        Assert.Equal(same, gate.SameAs(gate with { Id = 2, Rule = MetricRuleParser.Parse(other) }));
        Assert.False(gate.SameAs(gate with { MeasuredOn = "ci" }));
    }
}
