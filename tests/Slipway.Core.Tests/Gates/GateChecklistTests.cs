using Slipway.Core.Gates;
using Slipway.Core.Policies;

namespace Slipway.Core.Tests.Gates;

public class GateChecklistTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<MetricValue>> None = new Dictionary<string, IReadOnlyList<MetricValue>>();

    private static GateDefinition Verify(string on) => new(1, GateKind.Verify, on, null, null, null);
    private static GateDefinition Metric(string rule, string on = "staging") => new(2, GateKind.Metric, on, MetricRuleParser.Parse(rule), null, null);
    private static GateDefinition SignOffGate(string kind, string role, string? on = "staging") => new(3, GateKind.SignOff, on, null, kind, role);

    private static GateEvidence Evidence(IEnumerable<string>? verified = null, IReadOnlyDictionary<string, IReadOnlyList<MetricValue>>? measured = null,
        IReadOnlyDictionary<string, IReadOnlyList<MetricValue>>? baseline = null, params SignOff[] signOffs) =>
        new((verified ?? []).ToHashSet(), measured ?? None, baseline is null ? null : "1.0.1", baseline ?? None, signOffs);

    private static IReadOnlyDictionary<string, IReadOnlyList<MetricValue>> On(string env, params MetricValue[] values) =>
        new Dictionary<string, IReadOnlyList<MetricValue>> { [env] = values };

    private static SignOff Signed(long id, bool accepted, string by = "ann", string role = "analyst", int minutes = 0, string env = "staging") =>
        new(id, "uat", env, accepted, by, new HashSet<string> { role }, T0.AddMinutes(minutes), accepted ? "" : "wrong total");

    [Fact]
    public void Verify_PassesOnlyWhereAVerifyStepPassed()
    {
        var results = GateChecklist.Evaluate([Verify("staging"), Verify("qa")], Evidence(["staging"]));
        Assert.Equal([GateOutcome.Passed, GateOutcome.Failed], results.Select(r => r.Outcome));
        Assert.Equal(GateOutcome.Failed, GateChecklist.Overall(results));
    }

    [Fact]
    public void Metric_WithNothingMeasuredThere_Fails_NamingTheEnvironment()
    {
        var result = Assert.Single(GateChecklist.Evaluate([Metric("http_req_duration p95 < 300 ms")], Evidence(measured: On("qa", new MetricValue("http_req_duration", "p95", 10, "ms")))));
        Assert.Equal(GateOutcome.Failed, result.Outcome);
        Assert.Contains("no metrics reported for this release on staging", result.Detail);
    }

    [Fact]
    public void Metric_MeasuredOnCi_ReadsTheReleasesOwnRun()
    {
        var result = Assert.Single(GateChecklist.Evaluate([Metric("http_req_duration p95 < 300 ms", GateDefinition.Ci)],
            Evidence(measured: On("ci", new MetricValue("http_req_duration", "p95", 120, "ms")))));
        Assert.Equal((GateOutcome.Passed, 120.0), (result.Outcome, result.Measured));
    }

    [Fact]
    public void RelativeMetric_WithoutABaseline_IsInconclusive_AndOverallInconclusive()
    {
        var results = GateChecklist.Evaluate([Metric("http_req_duration p95 <= 1.10 x baseline"), Verify("staging")],
            Evidence(["staging"], On("staging", new MetricValue("http_req_duration", "p95", 200, "ms"))));
        Assert.Equal(GateOutcome.Inconclusive, results[0].Outcome);
        Assert.Contains("no release is current", results[0].Detail);
        Assert.Equal(GateOutcome.Inconclusive, GateChecklist.Overall(results));
    }

    [Fact]
    public void RelativeMetric_CatchesA30PercentRegression_NamingTheBaselineRelease()
    {
        var result = Assert.Single(GateChecklist.Evaluate([Metric("http_req_duration p95 <= 1.10 x baseline")],
            Evidence(measured: On("staging", new MetricValue("http_req_duration", "p95", 260, "ms")),
                baseline: On("staging", new MetricValue("http_req_duration", "p95", 200, "ms")))));
        Assert.Equal((GateOutcome.Failed, 260.0, 200.0), (result.Outcome, result.Measured, result.Baseline));
        Assert.Contains("baseline: 1.0.1", result.Detail);
    }

    [Fact]
    public void SignOff_TheLatestByAHolderOfTheRoleCounts()
    {
        var gate = SignOffGate("uat", "analyst");
        Assert.Contains("pending", Assert.Single(GateChecklist.Evaluate([gate], Evidence())).Detail);
        Assert.Equal(GateOutcome.Failed, Assert.Single(GateChecklist.Evaluate([gate], Evidence(signOffs: [Signed(1, true), Signed(2, false, minutes: 5)]))).Outcome);
        Assert.Equal(GateOutcome.Passed, Assert.Single(GateChecklist.Evaluate([gate], Evidence(signOffs: [Signed(1, false), Signed(2, true, "bob", minutes: 5)]))).Outcome);
        // By someone without the role, or on another environment: it does not count.
        Assert.Equal(GateOutcome.Failed, Assert.Single(GateChecklist.Evaluate([gate], Evidence(signOffs: [Signed(1, true, role: "developer")]))).Outcome);
        Assert.Equal(GateOutcome.Failed, Assert.Single(GateChecklist.Evaluate([gate], Evidence(signOffs: [Signed(1, true, env: "qa")]))).Outcome);
    }

    [Fact]
    public void Metric_ReportedByTwoJobsWithDifferentValues_IsInconclusive_NotTheFirstOneJudged()
    {
        var result = Assert.Single(GateChecklist.Evaluate([Metric("http_req_duration p95 < 300 ms")],
            Evidence(measured: On("staging", new MetricValue("http_req_duration", "p95", 120, "ms"), new MetricValue("http_req_duration", "p95", 900, "ms")))));
        Assert.Equal(GateOutcome.Inconclusive, result.Outcome);
        Assert.Contains("reported 2 times with different values (120, 900)", result.Detail);
    }

    [Fact]
    public void AnEnvironmentNamedCi_IsRefused_ForItIsTheNameOfTheCiSource() =>
        Assert.Contains("'ci' is reserved", new Slipway.Core.Environments.EnvironmentSettings("ci", 0, false, "build", [], 0, null, false,
            Slipway.Core.Environments.QueuePolicy.OldestFirst).Check());

    [Fact]
    public void NoGates_IsPassed() => Assert.Equal(GateOutcome.Passed, GateChecklist.Overall([]));

    [Theory]
    [InlineData(GateKind.Verify, null, null, null, null, "names the environment")]
    [InlineData(GateKind.Verify, "ci", null, null, null, "names the environment")]
    [InlineData(GateKind.Metric, "staging", null, null, null, "needs a rule")]
    [InlineData(GateKind.SignOff, "staging", null, "UAT!", "analyst", "needs a kind")]
    [InlineData(GateKind.SignOff, "staging", null, "uat", null, "names the role")]
    [InlineData(GateKind.SignOff, "ci", null, "uat", "analyst", "not on CI")]
    public void Check_RefusesIllFormedGates(GateKind kind, string? on, string? rule, string? signOffKind, string? role, string message) =>
        Assert.Contains(message, new GateDefinition(0, kind, on, rule is null ? null : MetricRuleParser.Parse(rule), signOffKind, role).Check());

    [Fact]
    public void Describe_ReadsAsAChecklistLine()
    {
        Assert.Equal("verify passed on staging", Verify("staging").Describe());
        Assert.Equal("http_req_duration p95 < 300 ms on staging", Metric("http_req_duration p95 < 300 ms").Describe());
        Assert.Equal("uat sign-off by analyst on staging", SignOffGate("uat", "analyst").Describe());
    }
}

public class SignOffRulesTests
{
    private static readonly HashSet<string> Analyst = ["analyst"];

    [Fact]
    public void AnAuthorOrMergerOfTheRelease_MayNotSignItOff()
    {
        var decision = SignOffRules.MaySign("dave", Analyst, ["dave", "rita"], ["analyst"], "uat", "1.0.3");
        var refused = Assert.IsType<PolicyDecision.Refused>(decision);
        Assert.Contains("dave wrote or merged a change in 1.0.3", refused.Message);
        Assert.Contains(SignOffRules.NotAuthor, refused.Message);
    }

    [Fact]
    public void TheRoleAGateAsksFor_IsNeeded_WhenAGateAsks()
    {
        Assert.IsType<PolicyDecision.Refused>(SignOffRules.MaySign("ann", new HashSet<string> { "developer" }, [], ["analyst", "customer"], "uat", "1.0.3"));
        Assert.Same(PolicyDecision.Allow, SignOffRules.MaySign("cora", new HashSet<string> { "customer" }, [], ["analyst", "customer"], "uat", "1.0.3"));
        Assert.Same(PolicyDecision.Allow, SignOffRules.MaySign("ann", new HashSet<string>(), [], [], "exploratory", "1.0.3"));
    }

    [Fact]
    public void StandingRejection_IsTheLatestVerdictPerKindAndEnvironment_AndANewerAcceptanceLiftsIt()
    {
        var t0 = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        SignOff Of(long id, string kind, bool accepted, int minutes) => new(id, kind, "staging", accepted, "ann", Analyst, t0.AddMinutes(minutes), "x");
        Assert.Null(SignOffRules.StandingRejection([]));
        Assert.Equal(2, SignOffRules.StandingRejection([Of(1, "uat", true, 0), Of(2, "uat", false, 5)])!.Id);
        Assert.Null(SignOffRules.StandingRejection([Of(1, "uat", false, 0), Of(2, "uat", true, 5)]));
        // Another kind's acceptance does not lift a rejection.
        Assert.Equal(1, SignOffRules.StandingRejection([Of(1, "uat", false, 0), Of(2, "exploratory", true, 5)])!.Id);
    }

    [Theory]
    [InlineData(false, null, "a rejection needs notes saying what is wrong")]
    [InlineData(false, "  ", "a rejection needs notes saying what is wrong")]
    [InlineData(true, null, null)]
    [InlineData(false, "wrong total", null)]
    public void Notes_AreRequiredForARejection(bool accepted, string? notes, string? error) =>
        Assert.Equal(error, SignOffRules.CheckNotes(accepted, notes));
}
