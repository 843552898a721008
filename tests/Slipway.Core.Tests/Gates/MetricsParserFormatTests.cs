using Slipway.Core.Gates;

namespace Slipway.Core.Tests.Gates;

public class MetricsParserFormatTests
{
    [Theory]
    [InlineData(MetricSamples.K6HandleSummary, "k6")]
    [InlineData(MetricSamples.K6SummaryExport, "k6")]
    [InlineData(MetricSamples.ArtilleryV2, "artillery")]
    [InlineData(MetricSamples.ArtilleryV1, "artillery")]
    [InlineData(MetricSamples.Autocannon, "autocannon")]
    [InlineData(MetricSamples.Plain, "plain")]
    public void Parse_KnownFormat_IsDetectedByShape(string text, string format)
    {
        var result = MetricsParser.Parse("perf/summary.json", text);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(format, result.Format);
        Assert.NotEmpty(result.Values);
    }

    // Each row: sample, metric, stat, expected value, expected unit.
    public static TheoryData<string, string, string, double, string?> Figures => new()
    {
        // k6 handleSummary
        { MetricSamples.K6HandleSummary, "http_req_duration", "p95", 212.4, "ms" },
        { MetricSamples.K6HandleSummary, "http_req_duration", "p50", 110.2, "ms" },
        { MetricSamples.K6HandleSummary, "http_req_duration", "avg", 120.5, "ms" },
        { MetricSamples.K6HandleSummary, "checkout_time", "p99.9", 790, "ms" },
        { MetricSamples.K6HandleSummary, "checks", "rate", 99.5, "%" },
        { MetricSamples.K6HandleSummary, "vus", "max", 10, null },
        { MetricSamples.K6HandleSummary, "http_reqs", "rate", 49.98, "/s" },
        { MetricSamples.K6HandleSummary, "requests", "count", 1500, null },
        { MetricSamples.K6HandleSummary, "requests", "rate", 49.98, "/s" },
        { MetricSamples.K6HandleSummary, "errors", "count", 6, null },
        { MetricSamples.K6HandleSummary, "errors", "rate", 0.4, "%" },
        // k6 --summary-export
        { MetricSamples.K6SummaryExport, "http_req_duration", "p95", 187.6, "ms" },
        { MetricSamples.K6SummaryExport, "http_req_duration", "p50", 90.5, "ms" },
        { MetricSamples.K6SummaryExport, "http_req_waiting", "p90", 140, "ms" },
        { MetricSamples.K6SummaryExport, "checks", "rate", 99.5, "%" },
        { MetricSamples.K6SummaryExport, "vus", "value", 5, null },
        { MetricSamples.K6SummaryExport, "requests", "count", 2000, null },
        { MetricSamples.K6SummaryExport, "requests", "rate", 66.6, "/s" },
        { MetricSamples.K6SummaryExport, "errors", "count", 20, null },
        { MetricSamples.K6SummaryExport, "errors", "rate", 1, "%" },
        // Artillery v2
        { MetricSamples.ArtilleryV2, "http.response_time", "p95", 120.3, "ms" },
        { MetricSamples.ArtilleryV2, "http.codes.500", "count", 10, null },
        { MetricSamples.ArtilleryV2, "http_req_duration", "p95", 120.3, "ms" },
        { MetricSamples.ArtilleryV2, "http_req_duration", "p50", 55.2, "ms" },
        { MetricSamples.ArtilleryV2, "http_req_duration", "avg", 63.4, "ms" },
        { MetricSamples.ArtilleryV2, "http_req_duration", "p99.9", 900.2, "ms" },
        { MetricSamples.ArtilleryV2, "http_req_duration", "count", 998, null },
        { MetricSamples.ArtilleryV2, "vusers.session_length", "p95", 1000, "ms" },
        { MetricSamples.ArtilleryV2, "requests", "count", 1000, null },
        { MetricSamples.ArtilleryV2, "requests", "rate", 50, "/s" },
        { MetricSamples.ArtilleryV2, "errors", "count", 15, null }, // ETIMEDOUT 2 + 500 ×10 + 503 ×3; 404 is not an error
        { MetricSamples.ArtilleryV2, "errors", "rate", 1.5, "%" },
        // Artillery v1
        { MetricSamples.ArtilleryV1, "latency", "p50", 40.5, "ms" },
        { MetricSamples.ArtilleryV1, "http_req_duration", "p95", 150.4, "ms" },
        { MetricSamples.ArtilleryV1, "requestsCompleted", "count", 400, null },
        { MetricSamples.ArtilleryV1, "codes.502", "count", 3, null },
        { MetricSamples.ArtilleryV1, "requests", "count", 400, null },
        { MetricSamples.ArtilleryV1, "requests", "rate", 20.3, "/s" },
        { MetricSamples.ArtilleryV1, "errors", "count", 4, null },
        { MetricSamples.ArtilleryV1, "errors", "rate", 1, "%" },
        // autocannon
        { MetricSamples.Autocannon, "latency", "avg", 9.4, "ms" },
        { MetricSamples.Autocannon, "latency", "p97.5", 20, "ms" },
        { MetricSamples.Autocannon, "latency", "p99.9", 45, "ms" },
        { MetricSamples.Autocannon, "latency", "count", 5120, null },
        { MetricSamples.Autocannon, "http_req_duration", "p99", 25, "ms" },
        { MetricSamples.Autocannon, "http_req_duration", "p2.5", 3, "ms" },
        { MetricSamples.Autocannon, "requests", "count", 5120, null },
        { MetricSamples.Autocannon, "requests", "rate", 512, "/s" },
        { MetricSamples.Autocannon, "requests", "p97.5", 590, "/s" },
        { MetricSamples.Autocannon, "throughput", "avg", 100000, "/s" },
        { MetricSamples.Autocannon, "timeouts", "count", 1, null },
        { MetricSamples.Autocannon, "errors", "count", 10, null }, // errors 2 + timeouts 1 + non2xx 7
        { MetricSamples.Autocannon, "duration", "value", 10.02, "s" },
        // plain
        { MetricSamples.Plain, "checkout_latency", "p95", 212.4, "ms" },
        { MetricSamples.Plain, "queue_depth", "max", 12, null },
    };

    [Theory]
    [MemberData(nameof(Figures))]
    public void Parse_Sample_ReadsFigure(string text, string metric, string stat, double value, string? unit)
    {
        var result = MetricsParser.Parse("perf/summary.json", text);

        Assert.True(result.Ok, result.Error);
        var found = Assert.Single(result.Values, v => v.Metric == metric && v.Stat == stat);
        Assert.Equal(value, found.Value, 6);
        Assert.Equal(unit, found.Unit);
    }

    [Fact]
    public void Parse_AutocannonErrors_RateIsAPercentageOfTotalRequests()
    {
        var values = MetricsParser.Parse("ac.json", MetricSamples.Autocannon).Values;

        Assert.Equal(10.0 / 5120 * 100, values.Single(v => v.Metric == "errors" && v.Stat == "rate").Value, 9);
    }

    [Theory]
    [InlineData(MetricSamples.K6HandleSummary)]
    [InlineData(MetricSamples.ArtilleryV2)]
    [InlineData(MetricSamples.Autocannon)]
    public void Parse_AnyFormat_NoMetricStatAppearsTwice(string text)
    {
        var values = MetricsParser.Parse("x.json", text).Values;

        Assert.Equal(values.Count, values.Select(v => (v.Metric, v.Stat)).Distinct().Count());
    }

    [Theory]
    [InlineData(MetricSamples.K6HandleSummary, "med")]
    [InlineData(MetricSamples.K6HandleSummary, "p(95)")]
    [InlineData(MetricSamples.ArtilleryV2, "median")]
    [InlineData(MetricSamples.ArtilleryV2, "mean")]
    [InlineData(MetricSamples.Autocannon, "average")]
    [InlineData(MetricSamples.Autocannon, "p97_5")]
    public void Parse_ToolSpelling_IsNormalisedAway(string text, string stat)
    {
        var values = MetricsParser.Parse("x.json", text).Values;

        Assert.DoesNotContain(values, v => v.Stat == stat);
    }

    [Fact]
    public void Parse_K6Thresholds_AreNotMetricValues()
    {
        var values = MetricsParser.Parse("x.json", MetricSamples.K6SummaryExport).Values;

        Assert.DoesNotContain(values, v => v.Stat.Contains("threshold") || v.Stat.Contains('<'));
    }

    [Fact]
    public void Parse_K6CustomMetricNamedErrors_IsKeptNotOverwrittenByTheCanonicalOne()
    {
        // k6 examples often declare `new Rate('errors')`; the file's own metric wins over the derived one.
        const string text = """
            {"root_group": {}, "metrics": {
              "errors": {"type": "rate", "contains": "default", "values": {"rate": 0.2, "passes": 2, "fails": 8}},
              "http_req_failed": {"type": "rate", "contains": "default", "values": {"rate": 0.5, "passes": 5, "fails": 5}}
            }}
            """;

        var values = MetricsParser.Parse("x.json", text).Values;

        Assert.Equal(20, values.Single(v => v.Metric == "errors" && v.Stat == "rate").Value, 6);
        Assert.Equal(2, values.Single(v => v.Metric == "errors" && v.Stat == "passes").Value);
        Assert.DoesNotContain(values, v => v.Metric == "errors" && v.Stat == "count");
    }

    [Fact]
    public void Parse_MetricsWithoutRootGroupButWithValuesObjects_IsK6()
    {
        const string text = """{"metrics": {"my_trend": {"values": {"p(95)": 5}}}}""";

        var result = MetricsParser.Parse("x.json", text);

        Assert.Equal("k6", result.Format);
        Assert.Equal(new MetricValue("my_trend", "p95", 5, null), Assert.Single(result.Values));
    }

    [Fact]
    public void Parse_LegacyK6DurationWithoutContains_IsInMilliseconds()
    {
        const string text = """{"root_group": {}, "metrics": {"group_duration": {"avg": 5, "p(95)": 9}}}""";

        var values = MetricsParser.Parse("x.json", text).Values;

        Assert.All(values, v => Assert.Equal("ms", v.Unit));
    }
}
