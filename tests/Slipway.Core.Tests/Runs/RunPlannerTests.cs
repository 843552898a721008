using Slipway.Core.Pipelines;
using Slipway.Core.Runs;

namespace Slipway.Core.Tests.Runs;

public class RunPlannerTests
{
    private static PipelineDefinition Pipeline(string yaml)
    {
        var result = PipelineParser.Parse(yaml);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!;
    }

    private const string Layered = """
        env: { LEVEL: pipeline, FROM_PIPELINE: p, SHARED: p }
        stages:
          - name: build
            env: { LEVEL: stage, FROM_STAGE: s, SHARED: s }
            jobs:
              - name: compile
                run: make
                env: { LEVEL: job, FROM_JOB: j }
              - name: lint
                run: make lint
          - name: deploy
            jobs:
              - name: ship
                run: ./ship.sh
                env: { SHARED: j }
        """;

    [Theory]
    [InlineData(0, 0, "LEVEL=job FROM_JOB=j FROM_PIPELINE=p FROM_STAGE=s SHARED=s")]
    [InlineData(0, 1, "LEVEL=stage FROM_PIPELINE=p FROM_STAGE=s SHARED=s")]
    [InlineData(1, 0, "LEVEL=pipeline FROM_PIPELINE=p SHARED=j")]
    public void Plan_Env_JobOverridesStageOverridesPipeline(int stage, int job, string expected)
    {
        var env = RunPlanner.Plan(Pipeline(Layered), "main").Stages[stage].Jobs[job].Env;
        var actual = string.Join(" ", expected.Split(' ').Select(kv => kv.Split('=')[0]).Select(k => $"{k}={(env.TryGetValue(k, out var v) ? v : "<missing>")}"));
        Assert.Equal(expected, actual);
        Assert.Equal(expected.Split(' ').Length, env.Count);
    }

    [Fact]
    public void Plan_Env_IsOrderedByName()
    {
        var env = RunPlanner.Plan(Pipeline(Layered), "main").Stages[0].Jobs[0].Env;
        Assert.Equal(env.Keys.OrderBy(k => k, StringComparer.Ordinal), env.Keys);
    }

    [Fact]
    public void Plan_CopiesStagesAndJobsInFileOrder()
    {
        var plan = RunPlanner.Plan(Pipeline(Tests.Pipelines.PipelineModelTests.FullExample), "main");
        Assert.Equal([0, 1], plan.Stages.Select(s => s.Index));
        Assert.Equal(["commit", "acceptance"], plan.Stages.Select(s => s.Name));
        Assert.Equal(["build", "lint"], plan.Stages[0].Jobs.Select(j => j.Name));

        var build = plan.Stages[0].Jobs[0];
        Assert.Equal("./build.sh\n", build.Script);
        Assert.Equal(JobDefinition.DefaultPool, build.Pool);
        Assert.Equal(["out/**"], build.Artifacts);
        Assert.Equal(["test-results/*.xml"], build.Reports);
        Assert.Equal(JobDefinition.DefaultTimeout, build.Timeout);

        var lint = plan.Stages[0].Jobs[1];
        Assert.Equal(["linux"], lint.Labels);
        Assert.Equal("1", lint.Env["STRICT"]);
        Assert.Equal("1", lint.Env["A"]);
        Assert.Equal("x", lint.Env["GLOBAL"]);

        var integration = plan.Stages[1].Jobs[0];
        Assert.Equal(TimeSpan.FromMinutes(10), integration.Timeout);
        Assert.Equal(1, integration.Retry);
    }

    [Theory]
    [InlineData("main", "main", false)]
    [InlineData("main", "master", true)]
    [InlineData("main", "main2", true)]
    [InlineData("release/*", "release/1.4", false)]
    [InlineData("release/*", "release", true)]
    [InlineData("release/*", "release/1.4/hotfix", true)]
    [InlineData("release/*", "prerelease/1.4", true)]
    [InlineData("feature/**", "feature/login", false)]
    [InlineData("feature/**", "feature/team/login", false)]
    [InlineData("feature/**", "features/login", true)]
    [InlineData("release/1.[0-9]", "release/1.4", false)]
    [InlineData("release/1.[0-9]", "release/1.x", true)]
    [InlineData("*", "main", false)]
    [InlineData("*", "feature/x", true)]
    public void Plan_WhenBranches_SkipsStageOnNonMatchingBranch(string glob, string branch, bool skipped)
    {
        var yaml = $$"""
            stages:
              - name: always
                jobs: [{ name: a, run: x }]
              - name: filtered
                when: { branches: ["{{glob}}"] }
                jobs: [{ name: b, run: y }]
            """;
        var plan = RunPlanner.Plan(Pipeline(yaml), branch);
        Assert.False(plan.Stages[0].Skipped);
        Assert.Equal(skipped, plan.Stages[1].Skipped);
        Assert.Single(plan.Stages[1].Jobs); // a skipped stage still lists its jobs (they are stored as skipped)
    }

    [Theory]
    [InlineData("main", false)]
    [InlineData("release/2.0", false)]
    [InlineData("dev", true)]
    public void Plan_WhenSeveralBranches_RunsIfAnyGlobMatches(string branch, bool skipped)
    {
        var plan = RunPlanner.Plan(Pipeline(Tests.Pipelines.PipelineModelTests.FullExample), branch);
        Assert.False(plan.Stages[0].Skipped);
        Assert.Equal(skipped, plan.Stages[1].Skipped);
    }
}
