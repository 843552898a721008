using Slipway.Core.Pipelines;
using static Slipway.Core.Tests.Pipelines.LintAssert;

namespace Slipway.Core.Tests.Pipelines;

public class PipelineModelTests
{
    internal const string FullExample = """
        env: { GLOBAL: "x" }          # optional, pipeline-level env
        stages:
          - name: commit
            env: { A: "1" }            # optional, stage-level env
            jobs:
              - name: build
                run: |
                  ./build.sh
                artifacts: [out/**]
                reports: [test-results/*.xml]
              - name: lint
                run: ./lint.sh
                env: { STRICT: "1" }
                pool: build            # optional, default "build"
                labels: [linux]        # optional
          - name: acceptance
            when: { branches: [main, "release/*"] }
            jobs:
              - name: integration
                run: ./integration-tests.sh
                timeout: 10m
                retry: 1
        """;

    [Fact]
    public void FullExample_ParsesIntoTheExpectedModel()
    {
        var p = Valid(FullExample);
        Assert.Equal(new Dictionary<string, string> { ["GLOBAL"] = "x" }, p.Env);
        Assert.Equal(["commit", "acceptance"], p.Stages.Select(s => s.Name));

        var commit = p.Stages[0];
        Assert.Null(commit.When);
        Assert.Equal("1", commit.Env["A"]);
        Assert.Equal(["build", "lint"], commit.Jobs.Select(j => j.Name));

        var build = commit.Jobs[0];
        Assert.Equal("./build.sh\n", build.Run);
        Assert.Equal(["out/**"], build.Artifacts);
        Assert.Equal(["test-results/*.xml"], build.Reports);
        Assert.Empty(build.Env);
        Assert.Empty(build.Labels);
        Assert.Equal(JobDefinition.DefaultPool, build.Pool);
        Assert.Equal(JobDefinition.DefaultTimeout, build.Timeout);
        Assert.Equal(0, build.Retry);

        var lint = commit.Jobs[1];
        Assert.Equal("./lint.sh", lint.Run);
        Assert.Equal("1", lint.Env["STRICT"]);
        Assert.Equal("build", lint.Pool);
        Assert.Equal(["linux"], lint.Labels);

        var acceptance = p.Stages[1];
        Assert.Empty(acceptance.Env);
        Assert.Equal(["main", "release/*"], acceptance.When!.Branches);
        Assert.True(acceptance.When.Matches("release/1.4"));
        Assert.False(acceptance.When.Matches("feature/x"));
        var integration = Assert.Single(acceptance.Jobs);
        Assert.Equal(TimeSpan.FromMinutes(10), integration.Timeout);
        Assert.Equal(1, integration.Retry);
    }

    [Fact]
    public void EnvScalars_AreKeptExactlyAsWritten()
    {
        var p = Valid("env:\n  A: 1.10\n  B: yes\n  C: 0x1F\n  D: ''\n  E: true\n  F: \"quoted\"\n" + Base);
        Assert.Equal("1.10", p.Env["A"]);
        Assert.Equal("yes", p.Env["B"]);
        Assert.Equal("0x1F", p.Env["C"]);
        Assert.Equal("", p.Env["D"]);
        Assert.Equal("true", p.Env["E"]);
        Assert.Equal("quoted", p.Env["F"]);
    }

    [Fact]
    public void Version1_IsAccepted() => Valid("version: 1\n" + Base);

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("90s", 90)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("24h", 86400)]
    public void Timeout_IsParsed(string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Valid(Base + $"        timeout: {value}\n").Stages[0].Jobs[0].Timeout);

    [Fact]
    public void AnchorsAndAliases_AreAllowedForReuse()
    {
        var yaml = "env: &common { A: '1' }\nstages:\n  - name: s\n    env: *common\n    jobs:\n      - name: j\n        run: x\n        env: *common\n";
        var p = Valid(yaml);
        Assert.Equal("1", p.Stages[0].Env["A"]);
        Assert.Equal("1", p.Stages[0].Jobs[0].Env["A"]);
    }

    [Fact]
    public void MergeKeys_ReuseAnchoredSettings_AndExplicitKeysWin()
    {
        var p = Valid("""
            stages:
              - name: s
                jobs:
                  - &first { name: a, run: x, timeout: 10m, retry: 2, pool: big }
                  - <<: *first
                    name: b
                    retry: 0
                  - name: c
                    <<: [{ labels: [gpu] }, *first]
                    run: y
            """);
        var jobs = p.Stages[0].Jobs;
        Assert.Equal(["a", "b", "c"], jobs.Select(j => j.Name));
        Assert.Equal(("x", 0, "big", TimeSpan.FromMinutes(10)), (jobs[1].Run, jobs[1].Retry, jobs[1].Pool, jobs[1].Timeout));
        Assert.Equal(("y", 2, "big"), (jobs[2].Run, jobs[2].Retry, jobs[2].Pool));
        Assert.Equal(["gpu"], jobs[2].Labels);
    }

    [Fact]
    public void NullOptionalValues_ReadAsEmpty()
    {
        var job = Valid(Base + "        env:\n        labels:\n        artifacts:\n").Stages[0].Jobs[0];
        Assert.Empty(job.Env);
        Assert.Empty(job.Labels);
        Assert.Empty(job.Artifacts);
    }

    [Fact]
    public void ValidResult_HasNoErrors()
    {
        var result = PipelineParser.Parse(FullExample);
        Assert.True(result.IsValid);
        Assert.Empty(result.Errors);
    }
}
