using Slipway.Core.Environments;
using Slipway.Core.Pipelines;
using Slipway.Core.Runs;

namespace Slipway.Core.Tests.Deployments;

public sealed class DeployPoolsTests
{
    private static RunPlan PlanOf(params (string Job, string Pool)[] jobs) =>
        RunPlanner.Plan(new PipelineDefinition(new Dictionary<string, string>(), [new StageDefinition("build", null, new Dictionary<string, string>(),
            jobs.Select(j => new JobDefinition(j.Job, "true", new Dictionary<string, string>(), j.Pool, [], [], [], TimeSpan.FromMinutes(1), 0, [])).ToList())]), "main");

    [Fact]
    public void TheBuildPoolIsNeverReserved_AnyOtherEnvironmentPoolIs()
    {
        Assert.False(DeployPools.IsReservable(JobDefinition.DefaultPool));
        Assert.True(DeployPools.IsReservable("deploy-prod"));
    }

    [Fact]
    public void AJobOnAReservedPool_IsNamed_OthersPass()
    {
        var reserved = new HashSet<string> { "deploy-prod" };
        Assert.Empty(DeployPools.Violations(PlanOf(("test", "build"), ("lint", "linux")), reserved));
        var violations = DeployPools.Violations(PlanOf(("test", "build"), ("steal", "deploy-prod")), reserved);
        Assert.Equal(["job 'steal': pool 'deploy-prod' is reserved for deployments (an environment deploys from it); build jobs may not run there"], violations);
    }
}
