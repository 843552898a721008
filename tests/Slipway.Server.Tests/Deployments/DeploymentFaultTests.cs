using System.Diagnostics;
using Slipway.Server.Tests.Faults;
using Slipway.Testing;

namespace Slipway.Server.Tests.Deployments;

/// <summary>A deploy agent killed mid-deployment: the deployment becomes unknown, the lock is freed after the lease, and nothing re-runs it.</summary>
public sealed class DeploymentFaultTests
{
    private const string SlowOnProduction = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: "true"
        release:
          branch: main
          version: "1.0.{run}"
        deploy:
          run: |
            echo "deploy started on $SLIPWAY_ENVIRONMENT"
            if [ "$SLIPWAY_ENVIRONMENT" = production ]; then sleep 120; fi
        """;

    [Fact]
    public async Task DeployAgentKilledMidDeployment_Unknown_LockFreedAfterTheLease_NoRerunElsewhere()
    {
        await using var kit = await DeploymentKit.StartAsync("deploy-prod", 0, SlowOnProduction, o => o.LeaseTimeout = TimeSpan.FromSeconds(3));
        var staging = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(), "staging");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(staging.Number)).State);
        using var work = new TempDirectory();
        var token = await kit.Admin.CreateAgentTokenAsync("deploy-prod", preApproved: true);
        var agent = SlipwayProcess.Start(["agent", "--server", kit.Server.Url, "--token", token.Token, "--work", work.Path, "--name", "prod-1", "--slots", "1", "--pool", "deploy-prod"]);
        try
        {
            var first = await kit.Ann.PromoteAsync("shop", "production");
            var running = await kit.WaitForDeploymentAsync(first.Number, d => d.State == "running" && d.RunId is not null);
            await DeploymentKit.WaitAsync(async () => (await kit.Server.LogAsync(running.RunId!.Value, "deploy")).Contains("deploy started on production") ? "" : null, "the deploy output");
            var waiting = await kit.Ann.DeployAsync("shop", running.Release, "production");
            Assert.Equal("queued", waiting.State);

            Process.Start("kill", ["-KILL", agent.Id.ToString()])!.WaitForExit();
            var lost = await kit.WaitForDeploymentAsync(first.Number);

            Assert.Equal("unknown", lost.State);
            Assert.Contains("agent was lost", lost.Outcome);
            // The lock is free: the queued deployment holds it now (and waits for a deploy-prod agent), and the lost one did not run again.
            Assert.Equal("running", (await kit.WaitForDeploymentAsync(waiting.Number, d => d.State == "running")).State);
            var run = await kit.Admin.GetRunAsync(lost.RunId!.Value);
            Assert.Equal(1, run.Stages[0].Jobs.Single().Attempt);
            Assert.Equal("failed", run.Status);
            Assert.DoesNotContain(await kit.Admin.ListDeploymentsAsync("shop", "production"), d => d.Kind == "rollback");
        }
        finally
        {
            CrashTests.Kill(agent);
            CrashTests.KillJobsUnder(work.Path);
        }
    }
}
