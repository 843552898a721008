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
    public async Task ADeploymentJob_GetsTheReleaseFiles_AlsoWhenLeasedBeforeTheDeploymentIsLinkedToItsRun()
    {
        await using var kit = await DeploymentKit.StartAsync();
        var version = await kit.ReleaseAsync("first");
        var staged = await kit.OnStagingAsync(version);
        var runId = staged.RunId!.Value;
        var store = kit.Server.Service<ArtifactStore>();
        var linked = await store.ForStagesBeforeAsync(runId, 0);
        Assert.Equal(["pack/dist/app.txt"], linked.Select(a => a.Path));

        // The conductor makes the run (its jobs claimable at once), then links the deployment to it: a lease taken in
        // between sees the database as this. It must still get the release's files (it got none, and the rollout's
        // preflight failed: "'pack/dist/app.txt' is not among the release's files").
        await kit.Server.Service<SqlDatabase>().WriteAsync((c, tx) => Dapper.SqlMapper.ExecuteAsync(c,
            "UPDATE deployments SET run_id = NULL WHERE run_id = @runId", new { runId }, tx));
        var files = await store.ForStagesBeforeAsync(runId, 0);
        Assert.Equal(linked.Select(a => (a.Path, a.Sha256, a.Size)), files.Select(a => (a.Path, a.Sha256, a.Size)));

        // Linked again: another run of the same deployment (a repair run: no step, no secret) gets none of them.
        var db = kit.Server.Service<SqlDatabase>();
        var repair = await db.WriteAsync(async (c, tx) =>
        {
            await Dapper.SqlMapper.ExecuteAsync(c, "UPDATE deployments SET run_id = @runId WHERE id = (SELECT deployment_id FROM runs WHERE id = @runId)", new { runId }, tx);
            return await Dapper.SqlMapper.ExecuteScalarAsync<long>(c,
                "INSERT INTO runs (project_id, number, branch, commit_sha, commit_message, trigger, status, created_at, deployment_id) " +
                "SELECT project_id, NULL, branch, commit_sha, 'repair', 'repair', 'queued', created_at, deployment_id FROM runs WHERE id = @runId RETURNING id",
                new { runId }, tx);
        });
        Assert.Empty(await store.ForStagesBeforeAsync(repair, 0));
        Assert.Equal(["pack/dist/app.txt"], (await store.ForStagesBeforeAsync(runId, 0)).Select(a => a.Path));
    }

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

/// <summary>The server killed mid-deployment and restarted: nothing is lost, the deployment is resolved (unknown), the lock freed.</summary>
public sealed class DeploymentRestartTests
{
    /// <param name="sandbox">With the sandbox (the default) the deploy script dies with the killed server; without it, it
    /// outlives the server and the restarted embedded agent kills it before taking any job.</param>
    [Theory]
    [InlineData("bwrap")]
    [InlineData("none")]
    public async Task ServerKilledMidDeployment_AndRestarted_ResolvesItAndFreesTheEnvironment(string sandbox)
    {
        using var data = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort.Get()}";
        var env = new Dictionary<string, string>
        {
            ["SLIPWAY_BOOTSTRAP_TOKEN"] = SlipwayTestServer.AdminToken, ["SLIPWAY_POLL_SECONDS"] = "3600", ["SLIPWAY_AGENT_SANDBOX"] = sandbox,
        };
        string[] args = ["server", "--data", data.Path, "--urls", url, "--agent-slots", "2"];
        using var repo = Pipelines.Repo("""
            stages:
              - name: build
                jobs:
                  - name: pack
                    run: "true"
            release:
              branch: main
              version: "1.0.{run}"
            deploy:
              run: echo "deploy started"; sleep 120
            """);
        using var client = new Slipway.Client.SlipwayClient(url, SlipwayTestServer.AdminToken);
        var server = SlipwayProcess.Start(args, env);
        Contracts.Api.DeploymentDto running;
        try
        {
            await CrashTests.EventuallyAsync(async () => await client.ListProjectsAsync(), TimeSpan.FromSeconds(60), "the server to start");
            await client.CreateProjectAsync("shop", repo.Path, "main");
            await client.CreateEnvironmentAsync("shop", new Contracts.Api.EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
            running = await CrashTests.EventuallyAsync(async () => (await client.ListDeploymentsAsync("shop")).FirstOrDefault(d => d.State == "running" && d.RunId is not null),
                TimeSpan.FromSeconds(60), "the deployment to run");
            await CrashTests.EventuallyAsync(async () => (await client.GetLogAsync(running.RunId!.Value, "deploy", 0)).Text.Contains("deploy started") ? "" : null,
                TimeSpan.FromSeconds(30), "the deploy output");
            Process.Start("kill", ["-KILL", server.Id.ToString()])!.WaitForExit();
            server.WaitForExit(10_000);
        }
        finally { CrashTests.Kill(server); }
        IReadOnlyList<int> orphans;
        if (sandbox == "none")
        {
            // The deploy script runs in its own session: it outlived the server.
            orphans = CrashTests.JobScriptsUnder(data.Path);
            Assert.NotEmpty(orphans);
        }
        else
        {
            // The sandbox dies with its parent: nothing of the deployment runs on.
            await CrashTests.EventuallyAsync(async () => { await Task.Yield(); return CrashTests.JobScriptsUnder(data.Path).Count == 0 ? "" : null; },
                TimeSpan.FromSeconds(10), "the sandboxed deploy script to die with the server");
            orphans = [];
        }

        var restarted = SlipwayProcess.Start(args, env);
        try
        {
            var resolved = await CrashTests.EventuallyAsync(async () => await client.GetDeploymentAsync("shop", running.Number) is { State: not "running" } d ? d : null,
                TimeSpan.FromSeconds(60), "the interrupted deployment to be resolved");
            // Its agent died with the server: what reached the servers is unknown, so it is neither failed nor rolled back.
            Assert.Equal("unknown", resolved.State);
            Assert.Contains("server restarted", resolved.Outcome);
            Assert.Equal(running.RequestedAt, resolved.RequestedAt); // the record survived
            // The restarted embedded agent kills it when it starts, before taking any job: nothing of the old deployment runs on.
            await CrashTests.EventuallyAsync(async () => { await Task.Yield(); return CrashTests.JobScriptsUnder(data.Path).Intersect(orphans).Any() ? null : ""; },
                TimeSpan.FromSeconds(30), "the orphaned deploy script to be killed");
            // The environment is free again: a new deployment takes it.
            var again = await client.DeployAsync("shop", running.Release, "staging");
            await CrashTests.EventuallyAsync(async () => await client.GetDeploymentAsync("shop", again.Number) is { State: "running" } d ? d : null,
                TimeSpan.FromSeconds(60), "the next deployment to start");
        }
        finally
        {
            CrashTests.Kill(restarted);
            CrashTests.KillJobsUnder(data.Path);
        }
    }
}
