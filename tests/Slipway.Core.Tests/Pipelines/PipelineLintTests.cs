using Slipway.Core.Pipelines;
using static Slipway.Core.Tests.Pipelines.LintAssert;

namespace Slipway.Core.Tests.Pipelines;

public class PipelineLintTests
{
    private const string Job = "stages[0].jobs[0]";

    [Theory]
    [InlineData("stage:\n  - name: s\n", 1, 1, "stage", "unknown key 'stage' in the pipeline; did you mean 'stages'?")]
    [InlineData(Base + "        artefacts: [a]\n", 6, 9, Job + ".artefacts", "did you mean 'artifacts'?")]
    [InlineData(Base + "        Run: y\n", 6, 9, Job + ".Run", "did you mean 'run'?")]
    [InlineData("stages:\n  - name: s\n    foo: 1\n    jobs:\n      - name: j\n        run: x\n", 3, 5, "stages[0].foo", "unknown key 'foo' in a stage; expected one of: name, when, env, jobs")]
    [InlineData("stages:\n  - name: s\n    when: { branch: [main] }\n    jobs:\n      - name: j\n        run: x\n", 3, 13, "stages[0].when.branch", "did you mean 'branches'?")]
    public void UnknownKey_IsReportedAtTheKey_WithSuggestion(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("stages:\n  a: 1\n", 2, 3, "stages", "'stages' must be a list of stages, not a mapping")]
    [InlineData("stages: x\n", 1, 9, "stages", "must be a list of stages, not 'x'")]
    [InlineData(Base + "        retry: \"abc\"\n", 6, 16, Job + ".retry", "'retry' must be an integer between 0 and 5")]
    [InlineData(Base + "        env: [A]\n", 6, 14, Job + ".env", "'env' must be a mapping of NAME: value, not a list")]
    [InlineData("stages:\n  - name: s\n    jobs:\n      - name: j\n        run: [a]\n", 5, 14, Job + ".run", "'run' must be a string, not a list")]
    [InlineData("stages:\n  - name: s\n    jobs:\n      - name: j\n        run: \"  \"\n", 5, 14, Job + ".run", "'run' must not be empty")]
    [InlineData(Base + "        labels: linux\n", 6, 17, Job + ".labels", "'labels' must be a list of labels")]
    [InlineData(Base + "        labels: [[a]]\n", 6, 18, Job + ".labels[0]", "must be a non-empty string, not a list")]
    [InlineData("stages:\n  - x\n", 2, 5, "stages[0]", "a stage must be a mapping, not 'x'")]
    [InlineData("stages:\n  - name: s\n    jobs: [x]\n", 3, 12, "stages[0].jobs[0]", "a job must be a mapping")]
    [InlineData("stages:\n  - name: s\n    when: [main]\n    jobs:\n      - name: j\n        run: x\n", 3, 11, "stages[0].when", "'when' must be a mapping")]
    public void WrongType_IsReportedAtTheValue(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("version: 1\n", 1, 1, "stages", "missing required key 'stages'")]
    [InlineData("stages:\n  - jobs:\n      - name: j\n        run: x\n", 2, 5, "stages[0].name", "missing required key 'name'")]
    [InlineData("stages:\n  - name: s\n", 2, 5, "stages[0].jobs", "missing required key 'jobs'")]
    [InlineData("stages:\n  - name: s\n    jobs:\n      - run: x\n", 4, 9, Job + ".name", "missing required key 'name'")]
    [InlineData("stages:\n  - name: s\n    jobs:\n      - name: j\n", 4, 9, Job + ".run", "missing required key 'run'")]
    [InlineData("stages:\n  - name: s\n    when: {}\n    jobs:\n      - name: j\n        run: x\n", 3, 11, "stages[0].when.branches", "missing required key 'branches'")]
    public void MissingRequiredKey_IsReportedAtTheMapping(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("stages: []\n", 1, 9, "stages", "'stages' is empty; the pipeline needs at least one stage")]
    [InlineData("stages:\n", 1, 8, "stages", "'stages' is empty")]
    [InlineData("stages:\n  - name: s\n    jobs: []\n", 3, 11, "stages[0].jobs", "stage 's' has no jobs")]
    [InlineData("stages:\n  - name: s\n    when: { branches: [] }\n    jobs:\n      - name: j\n        run: x\n", 3, 23, "stages[0].when.branches", "'branches' is empty")]
    [InlineData("", 1, 1, "", "the pipeline file is empty; it needs a 'stages' list")]
    [InlineData("# only\n# comments\n", 1, 1, "", "the pipeline file is empty")]
    [InlineData("---\n", 1, 1, "", "the pipeline file is empty")]
    public void EmptyThings_AreReported(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("stages:\n  - name: s\n    jobs:\n      - name: a\n        run: x\n  - name: s\n    jobs:\n      - name: b\n        run: x\n",
        6, 11, "stages[1].name", "duplicate stage name 's' (first defined at line 2)")]
    [InlineData("stages:\n  - name: s\n    jobs:\n      - name: a\n        run: x\n  - name: t\n    jobs:\n      - name: a\n        run: x\n",
        8, 15, "stages[1].jobs[0].name", "duplicate job name 'a' (first defined at line 4)")]
    [InlineData(Base + "        run: y\n", 6, 9, Job + ".run", "duplicate key 'run' (first defined at line 5)")]
    [InlineData("stages: []\nstages: []\n", 2, 1, "stages", "duplicate key 'stages' (first defined at line 1)")]
    [InlineData("env: { A: 1, A: 2 }\n" + Base, 1, 14, "env.A", "duplicate key 'A' (first defined at line 1)")]
    public void Duplicates_AreReportedAtTheSecondOccurrence(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("stages:\n  - name: 'a b'\n    jobs:\n      - name: j\n        run: x\n", 2, 11, "stages[0].name", "invalid stage name 'a b'")]
    [InlineData("stages:\n  - name: s\n    jobs:\n      - name: -j\n        run: x\n", 4, 15, Job + ".name", "invalid job name '-j'")]
    [InlineData("stages:\n  - name: ''\n    jobs:\n      - name: j\n        run: x\n", 2, 11, "stages[0].name", "'name' must not be empty")]
    [InlineData(Base + "        pool: 'a/b'\n", 6, 15, Job + ".pool", "invalid pool name 'a/b'")]
    public void InvalidNames_AreReported(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData(Base + "        artifacts:\n          - /abs/x\n", 7, 13, Job + ".artifacts[0]", "invalid artifact path '/abs/x': absolute paths are not allowed")]
    [InlineData(Base + "        artifacts:\n          - out/../x\n", 7, 13, Job + ".artifacts[0]", "'..' segments are not allowed")]
    [InlineData(Base + "        artifacts:\n          - out//x\n", 7, 13, Job + ".artifacts[0]", "empty path segment")]
    [InlineData(Base + "        reports:\n          - ok/*.xml\n          - \"[ab\"\n", 8, 13, Job + ".reports[1]", "invalid report path '[ab': unclosed '['")]
    [InlineData("stages:\n  - name: s\n    when:\n      branches: [main, \"rel[\"]\n    jobs:\n      - name: j\n        run: x\n", 4, 24, "stages[0].when.branches[1]", "invalid branch glob 'rel[': unclosed '['")]
    public void InvalidGlobs_AreReported(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("10 minutes", "invalid duration '10 minutes'")]
    [InlineData("0s", "duration '0s' must be greater than 0")]
    [InlineData("-5m", "invalid duration '-5m'")]
    [InlineData("25h", "duration '25h' exceeds the maximum of 24h")]
    [InlineData("30", "invalid duration '30'")]
    [InlineData("1.5h", "invalid duration '1.5h'")]
    public void InvalidTimeout_IsReported(string value, string message) =>
        HasError(Base + $"        timeout: {value}\n", 6, 18, Job + ".timeout", message);

    [Theory]
    [InlineData("7", "'retry' must be between 0 and 5, not 7")]
    [InlineData("-1", "'retry' must be between 0 and 5, not -1")]
    [InlineData("1.5", "must be an integer between 0 and 5")]
    [InlineData("\"1\"", "must be an integer between 0 and 5, not '1' (a quoted number is a string: remove the quotes)")]
    public void RetryOutOfRange_IsReported(string value, string message) =>
        HasError(Base + $"        retry: {value}\n", 6, 16, Job + ".retry", message);

    [Theory]
    [InlineData("env:\n  1A: x\n" + Base, 2, 3, "env.1A", "invalid environment variable name '1A'")]
    [InlineData("env:\n  A-B: x\n" + Base, 2, 3, "env.A-B", "invalid environment variable name 'A-B'")]
    [InlineData("env:\n  SLIPWAY_RUN: x\n" + Base, 2, 3, "env.SLIPWAY_RUN", "reserved prefix 'SLIPWAY_'")]
    [InlineData("env:\n  A: [1]\n" + Base, 2, 6, "env.A", "environment variable 'A' must be a string, number or boolean, not a list")]
    [InlineData("env:\n  A: ~\n" + Base, 2, 6, "env.A", "environment variable 'A' has no value")]
    [InlineData("stages:\n  - name: s\n    env: { SLIPWAY_X: 1 }\n    jobs:\n      - name: j\n        run: x\n", 3, 12, "stages[0].env.SLIPWAY_X", "reserved prefix")]
    public void InvalidEnv_IsReported(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("version: 2\n" + Base, 1, 10, "version", "unsupported version '2'; only version 1 is supported")]
    [InlineData("version: \"1\"\n" + Base, 1, 10, "version", "only version 1 is supported")]
    [InlineData("- a\n- b\n", 1, 1, "", "the pipeline file must be a mapping with a 'stages' list, not a list")]
    [InlineData("hello\n", 1, 1, "", "must be a mapping with a 'stages' list, not 'hello'")]
    [InlineData("stages: []\n---\nstages: []\n", 2, 1, "", "more than one YAML document")]
    public void DocumentShape_IsChecked(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("? [a]\n: b\n", 1, 3, "", "mapping keys must be plain strings, not a list")]
    [InlineData("stages:\n  - name: s\n    <<: 5\n    jobs: []\n", 3, 9, "stages[0].<<", "'<<' (merge) needs a mapping or a list of mappings, not '5'")]
    public void OddKeys_AreReported(string yaml, int line, int column, string path, string message) =>
        HasError(yaml, line, column, path, message);

    [Theory]
    [InlineData("stages:\n\t- name: s\n", 2, 1)]
    [InlineData("stages:\n  - name: s\n    jobs:\n  \t  - name: j\n", 4, 3)]
    public void TabIndentation_IsReportedAtTheTab(string yaml, int line, int column) =>
        HasError(yaml, line, column, "", "tab character used for indentation; use spaces");

    [Fact]
    public void TabInsideBlockScalar_IsContent_NotAnIndentationError()
    {
        var run = Valid("stages:\n  - name: s\n    jobs:\n      - name: j\n        run: |\n          make\n          \techo hi\n")
            .Stages[0].Jobs[0].Run;
        Assert.Equal("make\n\techo hi\n", run);

        var error = Assert.Single(PipelineParser.Parse("a: |\n  x\n  \ty\nb: [\n").Errors);
        Assert.StartsWith("invalid YAML: ", error.Message);
    }

    [Theory]
    [InlineData("stages: [a\n")]
    [InlineData("stages:\n  - name: \"unterminated\n")]
    [InlineData("a: b: c\n")]
    [InlineData("stages:\n  - *nope\n")]
    [InlineData("{ a: [ }\n")]
    [InlineData("key: 'a\n\n")]
    public void SyntaxErrors_AreReportedWithoutThrowing(string yaml)
    {
        var result = PipelineParser.Parse(yaml);
        Assert.Null(result.Pipeline);
        var error = Assert.Single(result.Errors);
        Assert.True(error.Line >= 1 && error.Column >= 1);
        Assert.DoesNotContain("   at ", error.Message);
    }

    [Fact]
    public void SyntaxError_ReportsYamlPosition()
    {
        var error = Assert.Single(PipelineParser.Parse("stages:\n  - name: s\n   bad: [\n").Errors);
        Assert.Equal(3, error.Line);
        Assert.StartsWith("invalid YAML: ", error.Message);
    }

    [Fact]
    public void EveryErrorOfTheDeployAndReleaseSections_IsReportedAtOnce()
    {
        var yaml = LintAssert.Base +
                   "release:\n  tag: \"-v*\"\n  version: \"{build}\"\n" +
                   "deploy:\n  run: ./deploy.sh\n  steps:\n    - shell: x\n  targets: [web-1]\n  rollback: maybe\n  timeout: 90 minutes\n  metrics: m.json\n";
        var errors = PipelineParser.Parse(yaml).Errors.Select(e => e.Path).ToList();
        Assert.Contains("release.tag", errors);
        Assert.Contains("release.version", errors);
        Assert.Contains("deploy.run", errors);
        Assert.Contains("deploy.rollback", errors);
        Assert.Contains("deploy.timeout", errors);
        Assert.Contains("deploy.metrics", errors);
    }

    [Fact]
    public void AllErrors_AreCollected_AndSortedByPosition()
    {
        var yaml = "stage: 1\nstages:\n  - name: s\n    jobs:\n      - name: j\n        run: x\n        retry: 9\n        timeout: 0s\n        artefacts: [a]\n";
        var errors = PipelineParser.Parse(yaml, "p.yml").Errors;
        Assert.Equal(4, errors.Count);
        Assert.Equal(new[] { 1, 7, 8, 9 }, errors.Select(e => e.Line));
        Assert.All(errors, e => Assert.Equal("p.yml", e.File));
    }

    [Fact]
    public void LintError_PrintsFileLineColumnPathMessage()
    {
        var error = HasError(Base + "        retry: 9\n", 6, 16, Job + ".retry", "between 0 and 5");
        Assert.Equal(".slipway.yml:6:16: stages[0].jobs[0].retry: 'retry' must be between 0 and 5, not 9", error.ToString());
    }
}
