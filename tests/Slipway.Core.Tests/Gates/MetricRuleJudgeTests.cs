using Slipway.Core.Gates;

namespace Slipway.Core.Tests.Gates;

public class MetricRuleJudgeTests
{
    private static readonly MetricValue Enough = new MetricValue("requests", "count", 1000, null);

    private static List<MetricValue> Values(params MetricValue[] values) => [Enough, .. values];

    private static RuleJudgement Judge(string rule, IReadOnlyList<MetricValue> measured, IReadOnlyList<MetricValue>? baseline = null) =>
        MetricRuleJudge.Judge(MetricRuleParser.Parse(rule), measured, baseline);

    [Theory]
    [InlineData("http_req_duration p95 < 300 ms", 212, GateOutcome.Passed, "p95 212 ms < 300 ms")]
    [InlineData("http_req_duration p95 < 300 ms", 412, GateOutcome.Failed, "p95 412 ms ≥ 300 ms")]
    [InlineData("http_req_duration p95 < 300 ms", 300, GateOutcome.Failed, "p95 300 ms ≥ 300 ms")]
    [InlineData("http_req_duration p95 <= 300 ms", 300, GateOutcome.Passed, "p95 300 ms ≤ 300 ms")]
    [InlineData("http_req_duration p95 <= 300 ms", 300.5, GateOutcome.Failed, "p95 300.5 ms > 300 ms")]
    [InlineData("http_req_duration p95 > 100 ms", 212.4567, GateOutcome.Passed, "p95 212.457 ms > 100 ms")]
    [InlineData("http_req_duration p95 >= 300 ms", 299, GateOutcome.Failed, "p95 299 ms < 300 ms")]
    public void Judge_AbsoluteRule_ComparesAndExplains(string rule, double p95, GateOutcome outcome, string detail)
    {
        var judgement = Judge(rule, Values(new MetricValue("http_req_duration", "p95", p95, "ms")));

        Assert.Equal(new RuleJudgement(outcome, detail, p95, null), judgement);
    }

    [Fact]
    public void Judge_MissingMetric_FailsListingWhatWasReported()
    {
        var judgement = Judge("http_req_duration p95 < 300 ms",
            Values(new MetricValue("a", "p95", 1, null), new MetricValue("b", "p95", 1, null), new MetricValue("c", "p95", 1, null),
                new MetricValue("d", "p95", 1, null), new MetricValue("e", "p95", 1, null), new MetricValue("f", "p95", 1, null)));

        Assert.Equal(GateOutcome.Failed, judgement.Outcome);
        Assert.Equal("http_req_duration p95 was not reported (reported: requests, a, b, c, d and 2 more)", judgement.Detail);
        Assert.Null(judgement.Measured);
    }

    [Fact]
    public void Judge_MissingStatOfReportedMetric_FailsListingItsStats()
    {
        var judgement = Judge("http_req_duration p99 < 300 ms",
            Values(new MetricValue("http_req_duration", "p90", 1, "ms"), new MetricValue("http_req_duration", "p95", 1, "ms")));

        Assert.Equal(GateOutcome.Failed, judgement.Outcome);
        Assert.Equal("http_req_duration p99 was not reported (http_req_duration has p90, p95)", judgement.Detail);
    }

    [Fact]
    public void Judge_NothingReported_Fails()
    {
        var judgement = Judge("errors rate < 1 %", []);

        Assert.Equal(new RuleJudgement(GateOutcome.Failed, "errors rate was not reported (nothing was reported)", null, null), judgement);
    }

    [Theory]
    [InlineData("http_req_duration p99 <= 1.5 s", 1200, "ms", GateOutcome.Passed, 1.2, "p99 1.2 s ≤ 1.5 s")]
    [InlineData("http_req_duration p99 <= 1.5 s", 1600, "ms", GateOutcome.Failed, 1.6, "p99 1.6 s > 1.5 s")]
    [InlineData("http_req_duration p99 < 300 ms", 0.25, "s", GateOutcome.Passed, 250, "p99 250 ms < 300 ms")]
    [InlineData("http_req_duration p99 < 300 ms", 0.35, "s", GateOutcome.Failed, 350, "p99 350 ms ≥ 300 ms")]
    [InlineData("http_req_duration p99 < 300", 250, "ms", GateOutcome.Passed, 250, "p99 250 ms < 300 ms")] // rule without unit: the value's
    [InlineData("http_req_duration p99 < 300 ms", 250, null, GateOutcome.Passed, 250, "p99 250 ms < 300 ms")] // value without unit: as reported
    public void Judge_TimeUnits_ConvertBetweenSecondsAndMilliseconds(string rule, double value, string? unit, GateOutcome outcome, double measured, string detail)
    {
        var judgement = Judge(rule, Values(new MetricValue("http_req_duration", "p99", value, unit)));

        Assert.Equal(outcome, judgement.Outcome);
        Assert.Equal(measured, judgement.Measured!.Value, 9);
        Assert.Equal(detail, judgement.Detail);
    }

    [Theory]
    [InlineData("errors rate < 1 %", "/s", "units differ: the rule is in % but errors rate is reported in /s")]
    [InlineData("errors rate < 1 %", null, "units differ: the rule is in % but errors rate is reported without a unit")]
    [InlineData("errors rate < 5 /s", "%", "units differ: the rule is in /s but errors rate is reported in %")]
    [InlineData("errors rate < 5 ms", "%", "units differ: the rule is in ms but errors rate is reported in %")]
    public void Judge_UnitMismatch_Fails(string rule, string? unit, string detail)
    {
        var judgement = Judge(rule, Values(new MetricValue("errors", "rate", 0.5, unit)));

        Assert.Equal(new RuleJudgement(GateOutcome.Failed, detail, 0.5, null), judgement);
    }

    [Fact]
    public void Judge_PercentRuleOnPercentValue_Passes()
    {
        var judgement = Judge("errors rate < 1 %", Values(new MetricValue("errors", "rate", 0.5, "%")));

        Assert.Equal(new RuleJudgement(GateOutcome.Passed, "rate 0.5 % < 1 %", 0.5, null), judgement);
    }

    [Fact]
    public void Judge_APassOnTooFewRequests_IsInconclusive()
    {
        var measured = new List<MetricValue> { new MetricValue("requests", "count", 12, null), new MetricValue("http_req_duration", "p95", 120, "ms") };

        var judgement = Judge("http_req_duration p95 < 300 ms", measured);

        Assert.Equal(new RuleJudgement(GateOutcome.Inconclusive,
            "p95 120 ms < 300 ms, but only 12 requests measured; at least 30 are needed to judge", 120, null), judgement);
    }

    [Fact]
    public void Judge_AFailureOnTooFewRequests_StillFails()
    {
        // One request that took 10 s is not a reason to ask a person: it is already over the threshold.
        var measured = new List<MetricValue> { new MetricValue("requests", "count", 1, null), new MetricValue("http_req_duration", "p95", 10_000, "ms") };

        Assert.Equal(GateOutcome.Failed, Judge("http_req_duration p95 < 300 ms", measured).Outcome);
    }

    [Fact]
    public void Judge_MinimumSamples_CanBeLowered()
    {
        var measured = new List<MetricValue> { new MetricValue("requests", "count", 12, null), new MetricValue("http_req_duration", "p95", 200, "ms") };

        var judgement = MetricRuleJudge.Judge(MetricRuleParser.Parse("http_req_duration p95 < 300 ms"), measured, null, minimumSamples: 10);

        Assert.Equal(GateOutcome.Passed, judgement.Outcome);
    }

    [Fact]
    public void Judge_RuleOnTheRequestCountItself_IsJudgedEvenBelowTheMinimum()
    {
        var judgement = Judge("requests count >= 100", [new MetricValue("requests", "count", 12, null)]);

        Assert.Equal(new RuleJudgement(GateOutcome.Failed, "count 12 < 100", 12, null), judgement);
    }

    [Fact]
    public void Judge_NoRequestCountReported_IsJudged()
    {
        var judgement = Judge("queue_depth max < 50", [new MetricValue("queue_depth", "max", 12, null)]);

        Assert.Equal(GateOutcome.Passed, judgement.Outcome);
    }

    [Theory]
    [InlineData(320, GateOutcome.Passed, "p95 320 ms ≤ 1.1 × 300 ms baseline (+6.7 %)")]
    [InlineData(330, GateOutcome.Passed, "p95 330 ms ≤ 1.1 × 300 ms baseline (+10 %)")]
    [InlineData(390, GateOutcome.Failed, "p95 390 ms > 1.1 × 300 ms baseline (+30 %)")] // a 30 % regression is caught
    [InlineData(412, GateOutcome.Failed, "p95 412 ms > 1.1 × 300 ms baseline (+37 %)")]
    [InlineData(240, GateOutcome.Passed, "p95 240 ms ≤ 1.1 × 300 ms baseline (-20 %)")]
    public void Judge_RelativeRule_ComparesWithAFactorOfTheBaseline(double p95, GateOutcome outcome, string detail)
    {
        var judgement = Judge("http_req_duration p95 <= 1.10 x baseline",
            Values(new MetricValue("http_req_duration", "p95", p95, "ms")),
            Values(new MetricValue("http_req_duration", "p95", 300, "ms")));

        Assert.Equal(new RuleJudgement(outcome, detail, p95, 300), judgement);
    }

    [Fact]
    public void Judge_RelativeRuleBaselineInSeconds_IsConvertedToTheMeasuredUnit()
    {
        var judgement = Judge("http_req_duration p95 <= 1.1 x baseline",
            Values(new MetricValue("http_req_duration", "p95", 320, "ms")),
            Values(new MetricValue("http_req_duration", "p95", 0.3, "s")));

        Assert.Equal(GateOutcome.Passed, judgement.Outcome);
        Assert.Equal(300, judgement.Baseline!.Value, 9);
    }

    public static TheoryData<List<MetricValue>?, string> MissingBaselines => new()
    {
        { null, "no baseline value of http_req_duration p95" },
        { [Enough, new MetricValue("http_req_duration", "p90", 300, "ms")], "no baseline value of http_req_duration p95" },
        { [Enough, new MetricValue("http_req_duration", "p95", 0, "ms")], "the baseline value of http_req_duration p95 is 0, so a factor of it means nothing" },
        { [new MetricValue("requests", "count", 5, null), new MetricValue("http_req_duration", "p95", 300, "ms")], "the baseline measured only 5 requests; at least 30 are needed to compare" },
    };

    [Theory]
    [MemberData(nameof(MissingBaselines))]
    public void Judge_RelativeRuleWithoutUsableBaseline_IsInconclusive(List<MetricValue>? baseline, string detail)
    {
        var judgement = Judge("http_req_duration p95 <= 1.1 x baseline", Values(new MetricValue("http_req_duration", "p95", 320, "ms")), baseline);

        Assert.Equal(GateOutcome.Inconclusive, judgement.Outcome);
        Assert.Equal(detail, judgement.Detail);
        Assert.Equal(320, judgement.Measured);
    }

    [Fact]
    public void Judge_AbsoluteRule_StillReportsTheBaselineWhenKnown()
    {
        var judgement = Judge("http_req_duration p95 < 300 ms",
            Values(new MetricValue("http_req_duration", "p95", 250, "ms")), Values(new MetricValue("http_req_duration", "p95", 240, "ms")));

        Assert.Equal(new RuleJudgement(GateOutcome.Passed, "p95 250 ms < 300 ms", 250, 240), judgement);
    }

    [Fact]
    public void Judge_ParsedK6Summary_PassesFailsAndCatchesAnUnreportedPercentile()
    {
        var values = MetricsParser.Parse("summary.json", MetricSamples.K6HandleSummary).Values;

        Assert.Equal(GateOutcome.Passed, MetricRuleJudge.Judge(MetricRuleParser.Parse("http_req_duration p95 < 300 ms"), values, null).Outcome);
        Assert.Equal(GateOutcome.Passed, MetricRuleJudge.Judge(MetricRuleParser.Parse("checks rate >= 99 %"), values, null).Outcome);
        Assert.Equal(GateOutcome.Failed, MetricRuleJudge.Judge(MetricRuleParser.Parse("errors rate < 0.1 %"), values, null).Outcome);
        // The sample's summaryTrendStats stop at p(95): where k6 would silently pass, the gate fails.
        Assert.Equal(GateOutcome.Failed, MetricRuleJudge.Judge(MetricRuleParser.Parse("http_req_duration p99 < 1 s"), values, null).Outcome);
    }
}
