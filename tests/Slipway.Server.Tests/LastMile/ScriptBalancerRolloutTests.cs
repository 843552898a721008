using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing.Fleet;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// The <c>script</c> load-balancer kind end to end: the fleet's HAProxy balancer is replaced by a script balancer whose
/// commands drive the same HAProxy through its runtime socket (a small Python client the commands pipe into), so the
/// rollout's drain / maint / ready and its reading of the backend all go through the configured commands. A rolling
/// deployment under load loses no request; a drain command that fails fails its targets with its standard error, and
/// leaves them in rotation.
/// </summary>
public sealed class ScriptBalancerRolloutTests
{
    /// <summary>
    /// argv: SOCKET send|status. <c>send</c> passes one runtime-API line read from standard input (HAProxy answers nothing
    /// on success); <c>status</c> turns <c>show stat</c> into the script balancer's <c>SERVER STATUS SESSIONS</c> lines for
    /// the backend in SLIPWAY_LB_BACKEND.
    /// </summary>
    private const string RuntimeClient = """
        import os, socket, sys

        def ask(path, command):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(path)
            s.sendall(command.encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            s.close()
            return b"".join(chunks).decode()

        path, mode = sys.argv[1], sys.argv[2]
        if mode == "send":
            answer = ask(path, sys.stdin.readline().strip())
            if answer.strip():
                sys.stderr.write(answer)
                sys.exit(1)
        elif mode == "status":
            lines = ask(path, "show stat").splitlines()
            header = lines[0][2:].split(",")
            px, sv, scur, st = (header.index(n) for n in ("pxname", "svname", "scur", "status"))
            for line in lines[1:]:
                f = line.split(",")
                if len(f) < len(header) or f[px] != os.environ["SLIPWAY_LB_BACKEND"] or f[sv] in ("FRONTEND", "BACKEND"):
                    continue
                s = f[st]
                status = ("UP" if s.startswith("UP") or s == "no check" else "DOWN" if s.startswith("DOWN")
                          else "MAINT" if s.startswith("MAINT") else "DRAIN")
                print(f[sv], status, f[scur] or "0")
        else:
            sys.exit("mode is send or status")
        """;

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    [Fact]
    public async Task AScriptBalancer_DrivesTheRollout_WithoutAFailedRequest_AndAFailingDrainCommandFailsItsTargetsInRotation()
    {
        await using var kit = await FleetKit.StartAsync(hosts: 4, window: "2", minHealthy: 2);
        var client = Path.Combine(kit.Fleet.Root, "lb-runtime.py");
        var calls = Path.Combine(kit.Fleet.Root, "lb-calls.log");
        await File.WriteAllTextAsync(client, RuntimeClient);
        var runtime = $"/usr/bin/python3 {Quote(client)} {Quote(kit.Fleet.RuntimeSocket)}";
        const string SetServer = "printf 'set server %s/%s state %s\\n' \"$SLIPWAY_LB_BACKEND\" \"$SLIPWAY_LB_SERVER\" \"$SLIPWAY_LB_STATE\"";
        string Record(string which) => $"echo \"{which} $SLIPWAY_LB_NAME $SLIPWAY_LB_BACKEND/$SLIPWAY_LB_SERVER $SLIPWAY_LB_STATE\" >> {Quote(calls)}";
        var drain = $"case \"$SLIPWAY_LB_STATE\" in drain|maint) ;; *) exit 9 ;; esac; {SetServer} | {runtime} send && {Record("drain")}";
        var enable = $"[ \"$SLIPWAY_LB_STATE\" = ready ] || exit 9; {SetServer} | {runtime} send && {Record("enable")}";
        var status = $"{runtime} status";

        // The kit's HAProxy balancer lb1 becomes a script balancer: the address goes with the kind, min_healthy and the drain timeout stay.
        var lb = await kit.Admin.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest("script", null, null, null, drain, enable, status));
        Assert.Equal(("script", "", 2, 5), (lb.Kind, lb.Address, lb.MinHealthy, lb.DrainTimeoutSeconds));
        Assert.Equal((drain, enable, status), (lb.DrainCommand, lb.EnableCommand, lb.StatusCommand));
        var audit = await kit.Admin.ListAuditAsync(new AuditFilterOptions(Action: "env.manage", Limit: 100));
        Assert.Contains(audit, e => e.Detail is { } d && d.StartsWith("load balancer 'lb1' of 'production' changed: script (drain command: case", StringComparison.Ordinal));

        var version = await kit.ReleaseAsync("feature");
        var broken = await kit.ReleaseAsync("next");
        DeploymentDto d;
        LoadSummary summary;
        await using (var load = LoadClient.Start(kit.Fleet.FrontendUrl, concurrency: 4))
        {
            d = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", version, "production")).Number, seconds: 300);
            summary = await load.StopAsync();
        }
        var log = await kit.LogOfAsync(d);
        Assert.True(d.State == "succeeded", $"{d.State}: {d.Outcome}\n{log}");
        Assert.True(summary.Failures == 0, summary + "\n" + log);
        Assert.True(summary.Requests > 20, summary.ToString());
        Assert.All(kit.Fleet.Hosts, h => Assert.Equal(version, h.ReadCurrentVersion()));
        Assert.Equal(["h1", "h2", "h3", "h4"], d.Targets!.Select(t => t.Target));
        Assert.Equal([1, 1, 2, 2], d.Targets!.Select(t => t.Batch));
        Assert.All(d.Targets!, t => Assert.Equal(("succeeded", "ready"), (t.State, t.BalancerState)));

        // Every state change went through the commands, in order per server, with the target in the environment.
        var lines = await File.ReadAllLinesAsync(calls);
        foreach (var h in kit.Fleet.Hosts)
            Assert.Equal([$"drain lb1 app/{h.Name} drain", $"drain lb1 app/{h.Name} maint", $"enable lb1 app/{h.Name} ready"],
                lines.Where(l => l.Contains($" app/{h.Name} ", StringComparison.Ordinal)));
        Assert.Equal(12, lines.Length);
        await kit.Fleet.WaitAllUpAsync(TimeSpan.FromSeconds(30));

        // A drain command that fails: the batch's targets fail at 'drain' with its standard error, and were never taken out of rotation.
        await kit.Admin.SetBalancerAsync("shop", "production", "lb1",
            new BalancerRequest(null, null, null, null, DrainCommand: "echo 'lb api: 503 service unavailable' >&2; exit 4"));
        var failed = await kit.WaitForDeploymentAsync((await kit.Admin.DeployAsync("shop", broken, "production")).Number, seconds: 300);
        Assert.True(failed.State == "failed", $"{failed.State}: {failed.Outcome}\n{await kit.LogOfAsync(failed)}");
        var h1 = failed.Targets!.Single(t => t.Target == "h1");
        Assert.Equal(("failed", (string?)null, "drain"), (h1.State, h1.BalancerState, h1.Step));
        Assert.Equal("load balancer 'lb1': drain command (for app/h1, state drain) exited with code 4; stderr: lb api: 503 service unavailable", h1.Reason);
        Assert.Contains("never taken out of rotation", await kit.LogOfAsync(failed));
        Assert.Equal(12, (await File.ReadAllLinesAsync(calls)).Length);
        await kit.Fleet.WaitAllUpAsync(TimeSpan.FromSeconds(30));
    }
}
