using Slipway.Contracts.Api;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// The talk's choice, Ansible, as a step of a Slipway rollout: the playbook comes from the release, runs on the deploy agent
/// (Debian's ansible) once per batch with --limit, against the inventory Slipway writes, with the host keys Slipway pinned.
/// Slipway keeps the load balancer, the batches and the per-target results: zero failed requests through HAProxy, and a
/// playbook failing on the hosts of batch 2 stops the rollout and rolls back.
/// </summary>
public sealed class AnsibleRolloutTests
{
    private static string AnsiblePipeline(SimulatedFleet fleet, string window) => $$"""
        stages:
          - name: build
            jobs:
              - name: pack
                run: |
                  mkdir -p dist app && head -c 300000 /dev/urandom > app/blob && cp BREAK app/ 2>/dev/null || true
                  tar czf dist/app.tar.gz -C app .
                artifacts: [dist/app.tar.gz]
        release:
          branch: main
          version: "1.0.{run}"
        deploy:
          targets: web
          rolling: { window: {{window}} }
          steps:
            - upload: { from: pack/dist/app.tar.gz, to: "{{fleet.Root}}/hosts/$SLIPWAY_TARGET/incoming/" }
            - ansible: { playbook: deploy/site.yml }
            - health: { http: "http://$SLIPWAY_TARGET_HOST:{{fleet.Hosts[0].AppPort}}/VERSION", expect: 200, within: 5s }
          rollback: auto
        """;

    // Values reach the shell as environment variables, never pasted into the script text.
    private const string Playbook = """
        - hosts: app-servers
          gather_facts: false
          tasks:
            - name: activate the release
              shell: |
                set -e
                d="$HOST_ROOT/releases/$RELEASE"
                mkdir -p "$d" && tar xzf "$HOST_ROOT/incoming/app.tar.gz" -C "$d"
                if [ -e "$d/BREAK" ] && [ "$BATCH" = 2 ]; then echo "refusing to activate a broken release" >&2; exit 3; fi
                echo "$RELEASE" > "$d/VERSION"
                ln -sfn "$d" "$HOST_ROOT/current.new" && mv -T "$HOST_ROOT/current.new" "$HOST_ROOT/current"
                "$HOST_ROOT/bin/svc.sh" restart
                echo "activated $RELEASE on $TARGET (batch $BATCH, previous '$PREVIOUS', behind $BACKEND/$SERVER)"
              environment:
                RELEASE: "{{ SLIPWAY_RELEASE }}"
                PREVIOUS: "{{ SLIPWAY_PREVIOUS_RELEASE }}"
                TARGET: "{{ SLIPWAY_TARGET }}"
                BATCH: "{{ SLIPWAY_BATCH }}"
                BACKEND: "{{ slipway_backend }}"
                SERVER: "{{ slipway_server }}"
        """;

    [Fact]
    public async Task APlaybookStep_RollsAcrossTheFleetBatchByBatch_WithoutAFailedRequest()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 6, window: "3", minHealthy: 2, AnsiblePipeline, ("deploy/site.yml", Playbook));
        using var agent = await DeployAgent.StartAsync(kit);
        var version = await kit.ReleaseAsync("feature");
        await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
        var d = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", version, "production")).Number, seconds: 180);
        var summary = await load.StopAsync();
        var log = await kit.LogOfAsync(d);

        Assert.True(d.State == "succeeded", $"{d.State}: {d.Outcome}\n{log}");
        Assert.True(summary.Failures == 0, summary + "\n" + log);
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal(version, h.ReadCurrentVersion()));
        Assert.Equal("v0", summary.VersionSequence[0]);
        Assert.All(await kit.Fleet.VersionsNowAsync(), v => Assert.Equal(version, v));

        var targets = d.Targets!;
        Assert.Equal([1, 1, 1, 2, 2, 2], targets.Select(t => t.Batch));
        Assert.All(targets, t => Assert.Equal(("succeeded", "ready"), (t.State, t.BalancerState)));
        Assert.True(targets.Where(t => t.Batch == 2).Min(t => t.StartedAt) >= targets.Where(t => t.Batch == 1).Max(t => t.FinishedAt));
        // One playbook run per batch, limited to that batch; each host's task result logged under its target.
        Assert.True(log.Contains("--limit h1,h2,h3") && log.Contains("--limit h4,h5,h6"), log);
        Assert.Contains("[h5] ansible 'activate the release': changed", log);
        Assert.Contains($"activated {version} on h5 (batch 2, previous '', behind {SimulatedFleet.Backend}/h5)", log);
    }

    [Fact]
    public async Task APlaybookFailingOnBatch2_FailsThoseTargetsFromAnsiblesResults_AndRollsBack()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 6, window: "2", minHealthy: 1, AnsiblePipeline, ("deploy/site.yml", Playbook));
        using var agent = await DeployAgent.StartAsync(kit);
        var good = await kit.ReleaseAsync("good");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", good, "production")).Number, 180)).State);

        var bad = await kit.ReleaseAsync("broken in batch 2", ("BREAK", "1"));
        await using var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4);
        var failed = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", bad, "production")).Number, 180);
        var log = await kit.LogOfAsync(failed);
        Assert.True(failed.State == "failed", $"{failed.State}: {failed.Outcome}\n{log}");
        var targets = failed.Targets!.ToDictionary(t => t.Target);
        Assert.Equal(("succeeded", "ready"), (targets["h1"].State, targets["h1"].BalancerState));
        Assert.Equal(("failed", "maint"), (targets["h3"].State, targets["h3"].BalancerState));
        Assert.Contains("ansible task 'activate the release' failed", targets["h3"].Reason);
        Assert.Contains("refusing to activate a broken release", log);

        var rollback = await Deployments.DeploymentKit.WaitAsync(async () =>
            (await kit.Admin.ListDeploymentsAsync("shop", "production")).FirstOrDefault(x => x.Kind == "rollback"), "rollback");
        rollback = await kit.WaitForDeploymentAsync(rollback.Number, 180);
        var summary = await load.StopAsync();
        Assert.True(rollback.State == "succeeded", $"{rollback.State}: {rollback.Outcome}\n{await kit.LogOfAsync(rollback)}");
        Assert.True(summary.Failures == 0, summary.ToString());
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal(good, h.ReadCurrentVersion()));
    }

    [Fact]
    public async Task APlaybookMissingFromTheRelease_FailsTheDeployment_BeforeAnyTargetIsTouched()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 2, window: "1", minHealthy: 1, AnsiblePipeline);
        var version = await kit.ReleaseAsync("no playbook");
        var d = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", version, "production")).Number);

        Assert.Equal("failed", d.State);
        Assert.Contains("the playbook 'deploy/site.yml' is not in the release's source; no target was touched", d.Outcome);
        Assert.All(d.Targets!, t => Assert.Equal("not-run", t.State));
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal("v0", h.ReadCurrentVersion()));
    }

    [Fact]
    public async Task TheServersEmbeddedAgent_DoesNotRunAPlaybook_ItsControllerSideIsOutsideTheSandbox()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 2, window: "1", minHealthy: 1, AnsiblePipeline, ("deploy/site.yml", Playbook));
        var version = await kit.ReleaseAsync("on the embedded agent");
        var d = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", version, "production")).Number);

        Assert.Equal("failed", d.State);
        Assert.Contains("the server's embedded agent does not run it: give the environment a deploy pool with an agent of its own", d.Outcome);
        Assert.All(d.Targets!, t => Assert.Equal("not-run", t.State));
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal("v0", h.ReadCurrentVersion()));
    }

    /// <summary>
    /// A deploy agent of its own for production (pool deploy-ans, a real `slipway agent` process): a playbook's controller
    /// side runs outside the job sandbox, so the server's embedded agent refuses ansible steps.
    /// </summary>
    private sealed class DeployAgent : IDisposable
    {
        private readonly System.Diagnostics.Process _process;
        private readonly Testing.TempDirectory _work;

        private DeployAgent(System.Diagnostics.Process process, Testing.TempDirectory work) => (_process, _work) = (process, work);

        public static async Task<DeployAgent> StartAsync(FleetKit kit)
        {
            await kit.Admin.EditEnvironmentAsync("shop", "production", new EnvironmentRequest(null, null, null, "deploy-ans", null, null, null, null, null));
            var work = new Testing.TempDirectory();
            return new DeployAgent(await kit.StartDeployAgentAsync("deploy-ans", work.Path, "ans-1"), work);
        }

        public void Dispose()
        {
            Faults.CrashTests.Kill(_process);
            _work.Dispose();
        }
    }
}
