using Slipway.Core.Runs;
using static Slipway.Core.Tests.Pipelines.LintAssert;

namespace Slipway.Core.Tests.Pipelines;

public class SecretsKeyTests
{
    private const string Job = "stages[0].jobs[0]";

    [Fact]
    public void Secrets_AreCarriedIntoThePlannedJob()
    {
        var pipeline = Valid(Base + "        secrets: [DEPLOY_KEY, NPM_TOKEN]\n");
        Assert.Equal(["DEPLOY_KEY", "NPM_TOKEN"], pipeline.Stages[0].Jobs[0].Secrets);
        var planned = RunPlanner.Plan(pipeline, "main").Stages[0].Jobs[0];
        Assert.Equal(["DEPLOY_KEY", "NPM_TOKEN"], planned.Secrets);
    }

    [Fact]
    public void NoSecrets_IsAnEmptyList() =>
        Assert.Empty(RunPlanner.Plan(Valid(Base), "main").Stages[0].Jobs[0].Secrets!);

    [Theory]
    [InlineData("        secrets: [bad-name]\n", 6, 19, Job + ".secrets[0]", "invalid variable name 'bad-name'")]
    [InlineData("        secrets: [OK, 9X]\n", 6, 23, Job + ".secrets[1]", "invalid variable name '9X'")]
    [InlineData("        secrets: [SLIPWAY_TOKEN]\n", 6, 19, Job + ".secrets[0]", "reserved prefix 'SLIPWAY_'")]
    [InlineData("        secrets: [LD_PRELOAD]\n", 6, 19, Job + ".secrets[0]", "is reserved")]
    [InlineData("        secrets: KEY\n", 6, 18, Job + ".secrets", "'secrets' must be a list of secret names")]
    [InlineData("        secrets: [KEY, KEY]\n", 6, 18, Job + ".secrets", "secret 'KEY' is listed twice")]
    [InlineData("        secret: [KEY]\n", 6, 9, Job + ".secret", "did you mean 'secrets'?")]
    public void BadSecrets_AreReportedWithPosition(string keys, int line, int column, string path, string message) =>
        HasError(Base + keys, line, column, path, message);
}
