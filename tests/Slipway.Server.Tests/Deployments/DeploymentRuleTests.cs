using System.Net;
using Slipway.Contracts.Api;
using Slipway.Core.Pipelines;
using Slipway.Core.Runs;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Deployments;

/// <summary>Lifecycle, freezes and break-glass, one deployment at a time, altered artifacts, dedicated pools.</summary>
public sealed class DeploymentRuleTests
{
    private static async Task<(DeploymentKit Kit, string Version)> StagedAsync(string productionPool = "build", int approvals = 1)
    {
        var kit = await DeploymentKit.StartAsync(productionPool, approvals);
        var first = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(), "first release");
        var staging = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(), "staging");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(staging.Number)).State);
        return (kit, first.Version);
    }

    [Fact]
    public async Task AReleaseThatNeverSucceededOnStaging_CannotReachProduction()
    {
        var (kit, _) = await StagedAsync();
        await using var _kit = kit;
        await kit.Admin.EditEnvironmentAsync("shop", "staging", new EnvironmentRequest(null, null, null, null, null, null, null, false, null));
        var second = await kit.ReleaseAsync("two", ("VERSION", "2"));
        var e = await Refused(() => kit.Ann.DeployAsync("shop", second, "production"), HttpStatusCode.Conflict);
        Assert.Contains($"lifecycle: release {second} has not succeeded on 'staging'", e.Message);
        var audit = await AuditAsync(kit.Server, "action=deployment.start");
        Assert.Contains(audit, a => a.Actor == "ann" && a.Outcome == "denied" && a.Detail!.Contains("lifecycle"));
    }

    [Fact]
    public async Task DuringAFreeze_DeploymentsAreRefused_ExceptBreakGlassWithAReason_WhichIsFlagged()
    {
        var (kit, version) = await StagedAsync(approvals: 0);
        await using var _kit = kit;
        var now = DateTimeOffset.UtcNow;
        var frozen = await kit.Admin.AddFreezeAsync("shop", "production", new FreezeWindowRequest("release audit", null, null, null, now.AddMinutes(-1), now.AddHours(1)));
        Assert.True(frozen.Freezes.Single().ActiveNow);
        Assert.Contains("freeze: 'production' is frozen by 'release audit'", (await Refused(() => kit.Ann.PromoteAsync("shop", "production"), HttpStatusCode.Conflict)).Message);
        Assert.Contains("does not hold deploy.break-glass", (await Refused(() => kit.Ann.PromoteAsync("shop", "production", "the shop is down"), HttpStatusCode.Conflict)).Message);
        Assert.Contains("reason of at least", (await Refused(() => kit.Admin.PromoteAsync("shop", "production", "down"), HttpStatusCode.Conflict)).Message);

        var emergency = await kit.Admin.PromoteAsync("shop", "production", "payments are down, hotfix now");
        Assert.Equal("payments are down, hotfix now", emergency.EmergencyReason);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(emergency.Number)).State);
        Assert.Contains(await AuditAsync(kit.Server, "action=deployment.start"), a => a.Detail!.StartsWith("EMERGENCY DEPLOYMENT DURING FREEZE: payments are down"));
        var cell = (await kit.Ann.GetDashboardAsync("shop")).Environments.Single(c => c.Environment == "production");
        Assert.Equal(("release audit", "payments are down, hotfix now", version), (cell.FrozenBy, cell.Current!.EmergencyReason, cell.Current.Release));
        // Auto-deploy waits out a freeze too.
        await kit.Admin.AddFreezeAsync("shop", "staging", new FreezeWindowRequest("hold", null, null, null, now.AddMinutes(-1), now.AddHours(1)));
        var second = await kit.ReleaseAsync("two", ("VERSION", "2"));
        await kit.Server.Service<Slipway.Server.Deployments.DeploymentConductor>().StepAsync(default); // a whole conductor pass, not a guess at its timing
        Assert.DoesNotContain(await kit.Admin.ListDeploymentsAsync("shop", "staging"), d => d.Release == second);
    }

    [Fact]
    public async Task TwoDeploymentsToOneEnvironment_RequestedTogether_OneRunsTheOtherQueues_NeverBoth()
    {
        var (kit, version) = await StagedAsync(approvals: 0);
        await using var _kit = kit;
        var requests = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => kit.Admin.DeployAsync("shop", version, "staging"))));
        Assert.All(requests, r => Assert.Equal("queued", r.State));
        var done = new List<DeploymentDto>();
        foreach (var r in requests) done.Add(await kit.WaitForDeploymentAsync(r.Number));
        Assert.All(done, d => Assert.Equal("succeeded", d.State));
        var ordered = done.OrderBy(d => d.StartedAt).ToList();
        Assert.True(ordered[0].FinishedAt <= ordered[1].StartedAt, "the two deployments overlapped");
    }

    [Fact]
    public async Task NewestWins_SupersedesOlderQueuedDeployments()
    {
        var (kit, version) = await StagedAsync(productionPool: "deploy-prod", approvals: 0);
        await using var _kit = kit;
        await kit.Admin.EditEnvironmentAsync("shop", "production", new EnvironmentRequest(null, null, null, null, null, null, null, null, "newest-wins"));
        var holder = await kit.Ann.PromoteAsync("shop", "production");
        await kit.WaitForDeploymentAsync(holder.Number, d => d.State == "running"); // no agent in deploy-prod: it holds the lock
        var older = await kit.Ann.DeployAsync("shop", version, "production");
        var newer = await kit.Ann.DeployAsync("shop", version, "production");
        await kit.Admin.CancelDeploymentAsync("shop", holder.Number);
        Assert.Equal("cancelled", (await kit.WaitForDeploymentAsync(holder.Number)).State);
        var superseded = await kit.WaitForDeploymentAsync(older.Number);
        Assert.Equal("superseded", superseded.State);
        Assert.Contains($"superseded by deployment #{newer.Number}", superseded.Outcome);
        Assert.Equal("running", (await kit.WaitForDeploymentAsync(newer.Number, d => d.State == "running")).State);
    }

    [Fact]
    public async Task ABuildPoolAgent_NeverTakesAProductionJob()
    {
        var (kit, _) = await StagedAsync(productionPool: "deploy-prod", approvals: 0);
        await using var _kit = kit;
        var d = await kit.Ann.PromoteAsync("shop", "production");
        var running = await kit.WaitForDeploymentAsync(d.Number, x => x.State == "running" && x.RunId is not null);
        await Task.Delay(2000); // the embedded agent (pool build) polls all the while
        var run = await kit.Admin.GetRunAsync(running.RunId!.Value);
        Assert.Equal("queued", run.Stages[0].Jobs.Single().Status); // deploy waits for a deploy-prod agent; verify waits behind it
        Assert.All(run.Stages.SelectMany(s => s.Jobs), j => Assert.Equal("deploy-prod", j.Pool));
    }

    [Fact]
    public async Task ABranchCannotPutItsCodeOnTheDeployAgents_NeitherByItsPipelineFileNorThroughTheQueue()
    {
        var (kit, _) = await StagedAsync(productionPool: "deploy-prod", approvals: 0);
        await using var _kit = kit;

        // A branch whose pipeline file names production's pool: its run fails, showing why; nothing is queued there.
        kit.Repo.CreateBranch("sneaky");
        kit.Repo.Checkout("sneaky");
        kit.Repo.WriteFile(".slipway.yml", """
            stages:
              - name: build
                jobs:
                  - name: exfiltrate
                    pool: deploy-prod
                    run: cat ~/.ssh/id_ed25519
            """);
        var sha = kit.Repo.Commit("run on the production agents");
        kit.Repo.Checkout("main");
        await kit.Server.Service<ChangeDetector>().CheckAsync((await kit.Server.Service<ProjectStore>().FindAsync("shop"))!);
        var summary = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListRunsAsync("shop")).FirstOrDefault(r => r.Commit == sha), "the branch's run");
        var run = await kit.Server.WaitForRunAsync(summary.Id);
        Assert.Equal("failed", run.Status);
        Assert.Contains(run.LintErrors, e => e.Contains("job 'exfiltrate': pool 'deploy-prod' is reserved for deployments"));
        Assert.Empty(run.Stages);

        // A build job that reached the pool's queue anyway (planned before production existed) is never handed to its
        // agents; the deployment's own job is.
        var project = (await kit.Server.Service<ProjectStore>().FindAsync("shop"))!;
        var plan = RunPlanner.Plan(new PipelineDefinition(new Dictionary<string, string>(), [new StageDefinition("build", null, new Dictionary<string, string>(),
            [new JobDefinition("old", "true", new Dictionary<string, string>(), "deploy-prod", [], [], [], TimeSpan.FromMinutes(1), 0, [])])]), "main");
        await kit.Server.Service<RunStore>().CreateAsync(new NewRun(project.Id, "main", kit.Repo.Head(), "old", "test", plan, []), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var agent = (await kit.Server.Service<AgentStore>().FindAsync("embedded"))!;
        var leases = kit.Server.Service<JobLeaseStore>();
        var noLabels = new HashSet<string>();
        Assert.Null(await leases.TryClaimAsync(agent.Id, "deploy-prod", noLabels, TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var d = await kit.Ann.PromoteAsync("shop", "production");
        var running = await kit.WaitForDeploymentAsync(d.Number, x => x.State == "running" && x.RunId is not null);
        var claimed = await leases.TryClaimAsync(agent.Id, "deploy-prod", noLabels, TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal((running.RunId, "deploy"), (claimed?.RunId, claimed?.Name));
    }

    [Fact]
    public async Task AFreezeThatBeginsWhileADeploymentWaits_HoldsItInTheQueueUntilTheFreezeEnds_AnEmergencyGoesAhead()
    {
        var (kit, version) = await StagedAsync();
        await using var _kit = kit;
        var conductor = kit.Server.Service<Slipway.Server.Deployments.DeploymentConductor>();
        var d = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal("awaiting_approval", d.State);
        var now = DateTimeOffset.UtcNow;
        var frozen = await kit.Admin.AddFreezeAsync("shop", "production", new FreezeWindowRequest("launch", null, null, null, now.AddMinutes(-1), now.AddHours(1)));
        await kit.Bob.ApproveDeploymentAsync("shop", d.Number, "approved before I saw the freeze");
        await conductor.StepAsync(default);
        await conductor.StepAsync(default);
        var held = await kit.Admin.GetDeploymentAsync("shop", d.Number);
        Assert.Equal(("queued", (long?)null), (held.State, held.RunId));

        // An emergency deployment (break-glass, with its reason) goes ahead of the one held by the freeze.
        var emergency = await kit.Admin.DeployAsync("shop", version, "production", "checkout is down, redeploying now");
        await kit.Bob.ApproveDeploymentAsync("shop", emergency.Number, "go");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(emergency.Number)).State);
        Assert.Equal("queued", (await kit.Admin.GetDeploymentAsync("shop", d.Number)).State);

        await kit.Admin.RemoveFreezeAsync("shop", "production", frozen.Freezes.Single().Id);
        var done = await kit.WaitForDeploymentAsync(d.Number);
        Assert.Equal(("succeeded", version), (done.State, done.Release));
    }

    [Fact]
    public async Task AfterAFailedAutoDeployRollsBack_TheSameReleaseIsNotDeployedAgain()
    {
        var (kit, first) = await StagedAsync();
        await using var _kit = kit;
        var conductor = kit.Server.Service<Slipway.Server.Deployments.DeploymentConductor>();
        var second = await kit.ReleaseAsync("breaks staging", ("BROKEN-staging", "x"), ("VERSION", "2"));
        var failed = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging"))
            .FirstOrDefault(x => x.Release == second && x.State == "failed"), "the failed auto-deployment");
        var rollback = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging"))
            .FirstOrDefault(x => x.Kind == "rollback" && x.State == "succeeded"), "the rollback");
        Assert.Equal((first, failed.Number), (rollback.Release, rollback.RollbackOf));
        for (var i = 0; i < 5; i++) await conductor.StepAsync(default);
        var staging = await kit.Admin.ListDeploymentsAsync("shop", "staging");
        Assert.Single(staging, x => x.Release == second); // not requested again after the rollback
        Assert.Equal(first, (await kit.Admin.GetDashboardAsync("shop")).Environments.Single(c => c.Environment == "staging").Current!.Release);
    }

    [Fact]
    public async Task WhatADeploymentReplaces_IsWhatIsCurrentWhenItStarts_NotWhenItWasRequested()
    {
        var (kit, first) = await StagedAsync();
        await using var _kit = kit;
        await kit.PromotedToProductionAsync();
        var second = await kit.ReleaseAsync("two", ("VERSION", "2"));
        var third = await kit.ReleaseAsync("three", ("VERSION", "3"));
        await kit.OnStagingAsync(third);

        // Both requested while production runs the first release; the second one starts after the other succeeded.
        var d2 = await kit.Ann.DeployAsync("shop", second, "production");
        var d3 = await kit.Ann.DeployAsync("shop", third, "production");
        Assert.Equal((first, first), (d2.PreviousRelease, d3.PreviousRelease));
        await kit.Bob.ApproveDeploymentAsync("shop", d2.Number, null);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(d2.Number)).State);
        await kit.Bob.ApproveDeploymentAsync("shop", d3.Number, null);
        var done = await kit.WaitForDeploymentAsync(d3.Number);
        Assert.Equal(("succeeded", second), (done.State, done.PreviousRelease));
        Assert.Contains($"deploying {third} to production (previous {second})", await kit.Server.LogAsync(done.RunId!.Value, "deploy"));
    }

    [Fact]
    public async Task AFailureWithADeploymentQueuedNext_IsNotRolledBack_TheNextOneReplacesIt()
    {
        var (kit, _) = await StagedAsync();
        await using var _kit = kit;
        await kit.PromotedToProductionAsync(); // something to roll back to
        var broken = await kit.ReleaseAsync("breaks production", ("BROKEN-production", "x"), ("VERSION", "2"));
        await kit.OnStagingAsync(broken);
        File.Delete(Path.Combine(kit.Repo.Path, "BROKEN-production"));
        var mended = await kit.ReleaseAsync("mends production", ("VERSION", "3"));
        await kit.OnStagingAsync(mended);

        // Both requested and approved while a freeze holds the queue, so when it ends they run one after the other.
        var bad = await kit.Ann.DeployAsync("shop", broken, "production");
        var good = await kit.Ann.DeployAsync("shop", mended, "production");
        var now = DateTimeOffset.UtcNow;
        var frozen = await kit.Admin.AddFreezeAsync("shop", "production", new FreezeWindowRequest("hold", null, null, null, now.AddMinutes(-1), now.AddHours(1)));
        await kit.Bob.ApproveDeploymentAsync("shop", bad.Number, null);
        await kit.Bob.ApproveDeploymentAsync("shop", good.Number, null);
        await kit.Admin.RemoveFreezeAsync("shop", "production", frozen.Freezes.Single().Id);

        Assert.Equal("failed", (await kit.WaitForDeploymentAsync(bad.Number)).State);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(good.Number)).State);
        var production = await kit.Admin.ListDeploymentsAsync("shop", "production");
        Assert.DoesNotContain(production, d => d.Kind == "rollback");
        Assert.Equal(mended, (await kit.Admin.GetDashboardAsync("shop")).Environments.Single(c => c.Environment == "production").Current!.Release);
        Assert.Contains(await AuditAsync(kit.Server, "action=deployment.start"),
            a => a.Detail!.StartsWith($"no automatic rollback of 'production' after deployment #{bad.Number}") && a.Detail.EndsWith($"deployment #{good.Number} ({mended}) is queued next"));
    }

    [Fact]
    public async Task ChangingTheApproverRole_DismissesApprovalsGivenUnderTheOldOne()
    {
        var (kit, _) = await StagedAsync(approvals: 2);
        await using var _kit = kit;
        var d = await kit.Ann.PromoteAsync("shop", "production");
        await kit.Bob.ApproveDeploymentAsync("shop", d.Number, "as an analyst");
        await kit.Admin.EditEnvironmentAsync("shop", "production", new EnvironmentRequest(null, null, null, null, null, null, "admin", null, null));
        // Bob's approval was checked against the analyst role; under the admin role it no longer counts: one of two.
        var after = await kit.Admin.ApproveDeploymentAsync("shop", d.Number, "as an admin");
        Assert.Equal("awaiting_approval", after.State);
        Assert.Equal(["bob", "admin"], after.Approvals.Select(a => a.Approver)); // both kept as evidence
    }

    [Fact]
    public async Task NoOverrideLetsAnInitiatorApproveTheirOwnDeployment_AndOnlyTheApproverRoleRejects()
    {
        var (kit, _) = await StagedAsync();
        await using var _kit = kit;
        // The admin holds every permission, policy.override included, and still cannot approve their own promotion.
        var d = await kit.Admin.PromoteAsync("shop", "production");
        Assert.Contains("initiator-not-approver", (await Refused(() => kit.Admin.ApproveDeploymentAsync("shop", d.Number, "mine"), HttpStatusCode.Forbidden)).Message);
        // Nor reject it without production's approver role (analyst).
        Assert.Contains("distinct-approvers", (await Refused(() => kit.Admin.RejectDeploymentAsync("shop", d.Number, "changed my mind"), HttpStatusCode.Forbidden)).Message);
        var rejected = await kit.Bob.RejectDeploymentAsync("shop", d.Number, "not this week");
        Assert.Equal("rejected", rejected.State);
        Assert.Contains(rejected.Approvals, a => a.Approver == "bob" && a.Verdict == "reject");
        // An approval after the rejection is refused in words, saying what to do instead.
        var late = (await Refused(() => kit.Ann.ApproveDeploymentAsync("shop", d.Number, "too late"), HttpStatusCode.Conflict)).Message;
        Assert.Contains($"cannot approve deployment #{d.Number} ", late);
        Assert.EndsWith("it was rejected, and a rejection is final: to ship that release there, ask for a new deployment", late);
    }

    [Fact]
    public async Task AnArtifactAlteredAfterTheRelease_FailsTheDeploymentBeforeAnythingRuns()
    {
        var (kit, version) = await StagedAsync(approvals: 0);
        await using var _kit = kit;
        var release = await kit.Admin.GetReleaseAsync("shop", version);
        var sha = release.Artifacts.Single().Sha256;
        var file = Path.Combine(kit.Server.Options.FullDataDirectory, BlobKeys.Artifact(sha));
        File.SetAttributes(file, FileAttributes.Normal);
        await File.WriteAllTextAsync(file, "tampered");
        var d = await kit.Ann.PromoteAsync("shop", "production");
        var failed = await kit.WaitForDeploymentAsync(d.Number);
        Assert.Equal("failed", failed.State);
        Assert.Contains("does not match its recorded digest", failed.Outcome);
        Assert.Contains("nothing ran", failed.Outcome);
        Assert.Null(failed.RunId);
    }

    [Fact]
    public async Task AGrantOnOneEnvironment_ReachesThatEnvironmentOnly()
    {
        var (kit, version) = await StagedAsync(approvals: 0);
        await using var _kit = kit;
        // ops may deploy to staging only: a developer grant on shop/staging, no other grant.
        await CreateUserAsync(kit.Server, "ops");
        using (var admin = Admin(kit.Server))
        {
            // A typo gives nothing, so it is refused rather than stored.
            var typo = await Expect(await admin.PostAsync("/api/v1/users/ops/grants", Body(new { role = "developer", project = "shop", environment = "stagign" })),
                HttpStatusCode.BadRequest);
            Assert.Contains("project 'shop' has no environment 'stagign'; create it first", await typo.Content.ReadAsStringAsync());
            await Expect(await admin.PostAsync("/api/v1/users/ops/grants", Body(new { role = "developer", project = "shop", environment = "staging" })), HttpStatusCode.OK);
        }
        using var ops = new Slipway.Client.SlipwayClient(kit.Server.Url, (await LoginAsync(kit.Server, "ops")).Token);
        var staged = await ops.DeployAsync("shop", version, "staging");
        Assert.Equal("queued", staged.State);
        Assert.Contains("deployer", (await Refused(() => ops.DeployAsync("shop", version, "production"), HttpStatusCode.Forbidden)).Message);
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(staged.Number)).State);

        // The all-projects matrix shows a user granted one project only that project.
        await kit.Admin.CreateProjectAsync("other", kit.Repo.Path, "main");
        await CreateUserAsync(kit.Server, "vic");
        using (var admin = Admin(kit.Server))
            await Expect(await admin.PostAsync("/api/v1/users/vic/grants", Body(new { role = "viewer", project = "shop" })), HttpStatusCode.OK);
        using var vic = new Slipway.Client.SlipwayClient(kit.Server.Url, (await LoginAsync(kit.Server, "vic")).Token);
        Assert.Equal(["other", "shop"], (await kit.Admin.GetOverviewAsync()).Select(d => d.Project).Order());
        var mine = Assert.Single(await vic.GetOverviewAsync());
        Assert.Equal("shop", mine.Project);
        Assert.Equal(["staging", "production"], mine.Environments.Select(c => c.Environment));
    }

    [Fact]
    public async Task ADeploymentsRun_CannotBeRetriedOrCancelledAsARun()
    {
        var (kit, _) = await StagedAsync(approvals: 0);
        await using var _kit = kit;
        var staging = (await kit.Admin.ListDeploymentsAsync("shop", "staging")).First();
        var retry = await Refused(() => kit.Dev.RetryRunAsync(staging.RunId!.Value, null), HttpStatusCode.Forbidden);
        Assert.Contains("executes a deployment", retry.Message);
        await Refused(() => kit.Admin.CancelRunAsync(staging.RunId!.Value), HttpStatusCode.Forbidden);
        Assert.Single(await kit.Admin.ListDeploymentsAsync("shop", "staging"));
    }
}
