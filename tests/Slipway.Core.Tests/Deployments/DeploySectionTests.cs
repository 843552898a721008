using Slipway.Core.Pipelines;
using Slipway.Core.Tests.Pipelines;

namespace Slipway.Core.Tests.Deployments;

public sealed class DeploySectionTests
{
    private const string Base = "stages:\n  - name: s\n    jobs:\n      - name: j\n        run: \"true\"\n";

    [Fact]
    public void ReadsTheDeploySection()
    {
        var parsed = PipelineParser.Parse(Base + "deploy:\n  run: ./deploy.sh\n  verify: ./smoke.sh\n  rollback: auto\n  timeout: 30m\n");
        Assert.True(parsed.IsValid);
        Assert.Equal(new DeployDefinition("./deploy.sh", "./smoke.sh", true, TimeSpan.FromMinutes(30)), parsed.Pipeline!.Deploy);
        var minimal = PipelineParser.Parse(Base + "deploy:\n  run: ./deploy.sh\n").Pipeline!.Deploy!;
        Assert.Equal((null, false, JobDefinition.DefaultTimeout), (minimal.Verify, minimal.AutoRollback, minimal.Timeout));
        Assert.Null(PipelineParser.Parse(Base).Pipeline!.Deploy);
    }

    [Theory]
    [InlineData("deploy:\n  verify: x\n", 7, 3, "deploy.run", "missing required key 'run'")]
    [InlineData("deploy:\n  run: x\n  rollback: always\n", 8, 13, "deploy.rollback", "'rollback' is auto or manual")]
    [InlineData("deploy:\n  run: x\n  hosts: [a]\n", 8, 3, "deploy.hosts", "unknown key 'hosts'")]
    [InlineData("deploy:\n  run: x\n  timeout: 2y\n", 8, 12, "deploy.timeout", "invalid duration")]
    public void Errors_HaveLineAndColumn(string deploy, int line, int column, string path, string fragment) =>
        LintAssert.HasError(Base + deploy, line, column, path, fragment);
}
