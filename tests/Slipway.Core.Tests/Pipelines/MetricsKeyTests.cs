using static Slipway.Core.Tests.Pipelines.LintAssert;

namespace Slipway.Core.Tests.Pipelines;

/// <summary><c>metrics:</c> on a job and on the deploy section's verify step (docs/gates.md).</summary>
public class MetricsKeyTests
{
    private const string Job = "stages[0].jobs[0]";

    [Fact]
    public void AJobsMetricsFile_IsReadIntoTheModel_AndTheRunPlan()
    {
        var pipeline = Valid(Base + "        metrics: perf/summary.json\n");
        Assert.Equal("perf/summary.json", pipeline.Stages[0].Jobs[0].Metrics);
        Assert.Equal("perf/summary.json", Slipway.Core.Runs.RunPlanner.Plan(pipeline, "main").Stages[0].Jobs[0].Metrics);
    }

    [Theory]
    [InlineData("/abs/summary.json")]
    [InlineData("../summary.json")]
    [InlineData("perf/*.json")]
    [InlineData("perf//x.json")]
    public void AMetricsPathThatIsNotOneRelativeFile_IsReported(string path) =>
        HasError(Base + $"        metrics: \"{path}\"\n", 6, 18, Job + ".metrics", "'metrics' is one file's path relative to the workspace");

    [Fact]
    public void DeployChecks_AreNamedScripts_UniqueAndNotEmpty()
    {
        var pipeline = Valid(Base + "deploy:\n  run: ./deploy.sh\n  checks:\n    - name: smoke\n      run: ./smoke.sh\n    - name: checkout\n      run: ./checkout.sh\n");
        Assert.Equal([new("smoke", "./smoke.sh"), new Slipway.Core.Pipelines.ReleaseCheck("checkout", "./checkout.sh")], pipeline.Deploy!.Checks!);
        HasError(Base + "deploy:\n  run: ./deploy.sh\n  checks:\n    - name: smoke\n      run: a\n    - name: smoke\n      run: b\n", 11, 13, "deploy.checks[1].name", "duplicate check name 'smoke'");
        HasError(Base + "deploy:\n  run: ./deploy.sh\n  checks:\n    - name: 'a b'\n      run: a\n", 9, 13, "deploy.checks[0].name", "invalid check name 'a b'");
        HasError(Base + "deploy:\n  run: ./deploy.sh\n  checks:\n    - name: smoke\n", 9, 7, "deploy.checks[0].run", "missing required key 'run'");
    }

    [Fact]
    public void DeployMetrics_BelongToTheVerifyStep()
    {
        var pipeline = Valid(Base + "deploy:\n  run: ./deploy.sh\n  verify: ./perf.sh\n  metrics: perf.json\n");
        Assert.Equal("perf.json", pipeline.Deploy!.VerifyMetrics);
        HasError(Base + "deploy:\n  run: ./deploy.sh\n  metrics: perf.json\n", 8, 12, "deploy.metrics", "the file the 'verify' step writes");
    }
}
