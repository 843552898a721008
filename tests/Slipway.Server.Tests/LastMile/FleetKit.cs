using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// A Slipway server (embedded agent) with project "shop" whose releases roll out over SSH to a simulated fleet of
/// <see cref="Hosts"/> hosts behind a real HAProxy: environment production, one target per host (role web, behind
/// app/hN, host key pinned), the HAProxy runtime socket as load balancer lb1, the fleet's client key as the
/// environment's SSH_PRIVATE_KEY secret. The release's activate step breaks batch 2 when the release contains the
/// file BREAK (it removes the VERSION file after the restart, so the health check fails).
/// </summary>
public sealed class FleetKit : IAsyncDisposable
{
    public required SlipwayTestServer Server { get; init; }
    public required GitRepository Repo { get; init; }
    public required SimulatedFleet Fleet { get; init; }
    public SlipwayClient Admin => Server.Client;

    public static string Pipeline(SimulatedFleet fleet, string window) => $$"""
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
            - ssh: |
                set -e
                d="$HOST_ROOT/releases/$SLIPWAY_RELEASE"
                mkdir -p "$d" && tar xzf "$HOST_ROOT/incoming/app.tar.gz" -C "$d"
                echo "$SLIPWAY_RELEASE" > "$d/VERSION"
                ln -sfn "$d" "$HOST_ROOT/current.new" && mv -T "$HOST_ROOT/current.new" "$HOST_ROOT/current"
                "$HOST_ROOT/bin/svc.sh" restart
                if [ -e "$d/BREAK" ] && [ "$SLIPWAY_BATCH" = 2 ]; then rm "$d/VERSION"; fi
                echo "activated $SLIPWAY_RELEASE on $SLIPWAY_TARGET (batch $SLIPWAY_BATCH, previous '$SLIPWAY_PREVIOUS_RELEASE')"
            - health: { http: "http://$SLIPWAY_TARGET_HOST:{{fleet.Hosts[0].AppPort}}/VERSION", expect: 200, within: 5s }
          rollback: auto
        """;

    /// <summary>Starts the kit; <paramref name="pipeline"/> replaces <see cref="Pipeline"/> (the fleet, the window) -> .slipway.yml.</summary>
    public static async Task<FleetKit> StartAsync(int hosts, string window, int minHealthy, Func<SimulatedFleet, string, string>? pipeline = null,
        params (string Path, string Content)[] files)
    {
        var fleet = await SimulatedFleet.StartAsync(hosts);
        SlipwayTestServer? server = null;
        try
        {
            server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
            var repo = Pipelines.Repo((pipeline ?? Pipeline)(fleet, window), files);
            await ConfigureAsync(server.Client, fleet, repo.Path, minHealthy);
            return new FleetKit { Server = server, Repo = repo, Fleet = fleet };
        }
        catch
        {
            if (server is not null) await server.DisposeAsync();
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Through the API of any Slipway server (also one run as a child process): project "shop" on <paramref name="repository"/>
    /// (its first run starts), environment production on pool build, the fleet's client key as SSH_PRIVATE_KEY, HAProxy's
    /// runtime socket as balancer lb1 and one target per host (roles web and app-servers, behind app/hN, host key pinned).
    /// </summary>
    public static async Task ConfigureAsync(SlipwayClient client, SimulatedFleet fleet, string repository, int minHealthy)
    {
        await client.CreateProjectAsync("shop", repository, "main");
        await client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 0, false, "build", [], 0, null, false, null));
        await client.SetEnvironmentVariableAsync("shop", "production", "SSH_PRIVATE_KEY", fleet.ClientPrivateKey, secret: true);
        await client.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest("haproxy", fleet.RuntimeSocket, minHealthy, "5s"));
        foreach (var h in fleet.Hosts)
            await client.AddTargetAsync("shop", "production", new TargetRequest(h.Name, h.Address, h.SshPort, fleet.User, ["web", "app-servers"],
                $"{SimulatedFleet.Backend}/{h.Name}", h.Fingerprint, null));
    }

    /// <summary>
    /// Starts a deploy agent of its own for <paramref name="pool"/>: a real <c>slipway agent</c> process with a pre-approved
    /// token, working in <paramref name="work"/>. The caller moves production to that pool and kills the process.
    /// </summary>
    public async Task<System.Diagnostics.Process> StartDeployAgentAsync(string pool, string work, string name, IReadOnlyDictionary<string, string>? env = null)
    {
        var token = await Admin.CreateAgentTokenAsync(pool, preApproved: true);
        return SlipwayProcess.Start(["agent", "--server", Server.Url, "--token", token.Token, "--work", work, "--name", name, "--slots", "1", "--pool", pool], env);
    }

    /// <summary>Commits on main and waits for the release of that commit.</summary>
    public async Task<string> ReleaseAsync(string message, params (string Path, string Content)[] files)
    {
        foreach (var (path, content) in files) Repo.WriteFile(path, content);
        var sha = Repo.Commit(message);
        var project = await Server.Service<ProjectStore>().FindAsync("shop");
        await Server.Service<ChangeDetector>().CheckAsync(project!);
        return (await Deployments.DeploymentKit.WaitAsync(async () => (await Admin.ListReleasesAsync("shop")).FirstOrDefault(r => r.Commit == sha),
            "release of " + sha[..8], 120)).Version;
    }

    public Task<DeploymentDto> WaitForDeploymentAsync(long number, int seconds = 120) =>
        Deployments.DeploymentKit.WaitAsync(async () =>
        {
            var d = await Admin.GetDeploymentAsync("shop", number);
            return d.State is "succeeded" or "failed" or "cancelled" or "unknown" ? d : null;
        }, $"deployment #{number}", seconds);

    public async Task<string> LogOfAsync(DeploymentDto d) =>
        d.RunId is { } run ? (await Admin.GetLogAsync(run, "deploy", 0, 1_000_000)).Text : "";

    // --- Holding a target mid-batch (RolloutInterruptionTests): separate members, nothing above depends on them. ---

    /// <summary>
    /// <see cref="Pipeline"/> whose ssh step (run out of rotation, in maint) first waits while the file HOST_ROOT/hold exists
    /// (<see cref="Hold"/>), having written its shell's PID to HOST_ROOT/held (<see cref="WaitHeldAsync"/>).
    /// </summary>
    public static string HoldablePipeline(SimulatedFleet fleet, string window)
    {
        const string at = "        set -e\n";
        var pipeline = Pipeline(fleet, window);
        if (!pipeline.Contains(at, StringComparison.Ordinal)) throw new InvalidOperationException("the ssh step of FleetKit.Pipeline changed: update HoldablePipeline");
        return pipeline.Replace(at, at + """
                    if [ -e "$HOST_ROOT/hold" ]; then echo $$ > "$HOST_ROOT/held.tmp" && mv "$HOST_ROOT/held.tmp" "$HOST_ROOT/held"; while [ -e "$HOST_ROOT/hold" ]; do sleep 0.1; done; fi

            """, StringComparison.Ordinal);
    }

    /// <summary>Makes the ssh step of <see cref="HoldablePipeline"/> wait on these hosts until <see cref="Unhold"/>.</summary>
    public static void Hold(params SimulatedHost[] hosts)
    {
        foreach (var h in hosts)
        {
            File.Delete(Path.Combine(h.Root, "held"));
            File.WriteAllText(Path.Combine(h.Root, "hold"), "");
        }
    }

    public static void Unhold(params SimulatedHost[] hosts)
    {
        foreach (var h in hosts) File.Delete(Path.Combine(h.Root, "hold"));
    }

    /// <summary>Waits until the ssh step waits on <paramref name="host"/> (held since <see cref="Hold"/>); returns the PID of its shell.</summary>
    public static async Task<int> WaitHeldAsync(SimulatedHost host, int seconds = 120) =>
        int.Parse(await Deployments.DeploymentKit.WaitAsync(async () =>
        {
            await Task.Yield();
            var held = Path.Combine(host.Root, "held");
            return File.Exists(held) && File.ReadAllText(held).Trim() is { Length: > 0 } pid ? pid : null;
        }, $"the ssh step to be held on {host.Name}", seconds), System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Repo.Dispose();
        await Fleet.DisposeAsync();
    }
}
