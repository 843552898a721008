using System.Diagnostics;
using Slipway.Agent.Execution.Rollout;
using Slipway.Contracts.Agents;
using Slipway.Testing;

namespace Slipway.Agent.Tests.Rollout;

/// <summary>
/// The <c>script</c> load balancer with real shell commands: what each command is called with (only in environment
/// variables), how the status output is read, and how a failing, hanging or garbage-printing command becomes a
/// balancer error.
/// </summary>
public sealed class ScriptBalancerTests : IDisposable
{
    private readonly TempDirectory _dir = new("slipway-script-lb");

    public void Dispose() => _dir.Dispose();

    private string Log => Path.Combine(_dir.Path, "calls.log");

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''") + "'";

    /// <summary>A command that appends its name and every SLIPWAY_* variable it sees (sorted) to the log.</summary>
    private string Recorder(string which) =>
        $"{{ echo \"{which}\"; env | grep '^SLIPWAY_' | sort; echo .; }} >> {Quote(Log)}";

    private ScriptBalancer Balancer(string? drain = null, string? enable = null, string? status = null, TimeSpan? timeout = null, string name = "lb1") =>
        new(name, drain ?? Recorder("drain"), enable ?? Recorder("enable"), status ?? "echo h1 UP", timeout);

    /// <summary>The log as one block per call: the command's name and the variables it saw.</summary>
    private IReadOnlyList<string> Calls() =>
        File.ReadAllText(Log).Split(".\n", StringSplitOptions.RemoveEmptyEntries).Select(b => b.TrimEnd('\n').Replace('\n', ' ')).ToList();

    [Fact]
    public async Task DrainMaintAndReady_RunTheDrainThenTheEnableCommand_WithTheTargetOnlyInTheEnvironment()
    {
        var lb = Balancer();
        await lb.SetStateAsync("app", "web-1", "drain", CancellationToken.None);
        await lb.SetStateAsync("app", "web-1", "maint", CancellationToken.None);
        await lb.SetStateAsync("app", "web-1", "ready", CancellationToken.None);

        // Exactly the four values: none of the agent's own SLIPWAY_* settings (the test runner's, here) reach the command.
        Assert.Equal(
        [
            "drain SLIPWAY_LB_BACKEND=app SLIPWAY_LB_NAME=lb1 SLIPWAY_LB_SERVER=web-1 SLIPWAY_LB_STATE=drain",
            "drain SLIPWAY_LB_BACKEND=app SLIPWAY_LB_NAME=lb1 SLIPWAY_LB_SERVER=web-1 SLIPWAY_LB_STATE=maint",
            "enable SLIPWAY_LB_BACKEND=app SLIPWAY_LB_NAME=lb1 SLIPWAY_LB_SERVER=web-1 SLIPWAY_LB_STATE=ready",
        ], Calls());
    }

    [Fact]
    public async Task AValue_IsNeverShellText()
    {
        var planted = Path.Combine(_dir.Path, "planted");
        var lb = Balancer(name: $"lb $(touch {planted}) `touch {planted}` ;touch {planted}");
        await lb.SetStateAsync("app", "web-1", "drain", CancellationToken.None);
        Assert.False(File.Exists(planted));
        Assert.Contains($"SLIPWAY_LB_NAME=lb $(touch {planted}) `touch {planted}` ;touch {planted}", Calls().Single());

        // Backend and server names keep HAProxy's alphabet: nothing runs for one outside it.
        await Assert.ThrowsAsync<ArgumentException>(() => lb.SetStateAsync("app", "web-1;reboot", "drain", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => lb.SetStateAsync("app", "web-1", "disable", CancellationToken.None));
        Assert.Single(Calls());
    }

    [Fact]
    public async Task TheStatusCommand_GetsTheBackend_AndItsLinesBecomeServerStats()
    {
        var status = $"echo \"$SLIPWAY_LB_NAME $SLIPWAY_LB_BACKEND\" > {Quote(Log)}; " +
                     "printf 'web-1 up 3\\n  web-2\\tDRAIN\\n\\nweb-3 Maint 0\\r\\nweb-4 down\\n'";
        var rows = await Balancer(status: status).ShowBackendAsync("app", CancellationToken.None);

        Assert.Equal("lb1 app", File.ReadAllText(Log).Trim());
        Assert.Equal(
        [
            new HaproxyServerStat("app", "web-1", "UP", 3),
            new HaproxyServerStat("app", "web-2", "DRAIN", 0),
            new HaproxyServerStat("app", "web-3", "MAINT", 0),
            new HaproxyServerStat("app", "web-4", "DOWN", 0),
        ], rows);
        Assert.True(BalancerSet.InRotation(rows[0]));
        Assert.DoesNotContain(rows.Skip(1), BalancerSet.InRotation);
        Assert.Empty(await Balancer(status: "true").ShowBackendAsync("app", CancellationToken.None));
    }

    [Fact]
    public async Task GarbageStatusOutput_IsABalancerError_NamingTheLine()
    {
        var e = await Assert.ThrowsAsync<ScriptBalancerException>(() =>
            Balancer(status: "echo 'web-1 UP 2'; echo '<html>502 Bad Gateway</html>'").ShowBackendAsync("app", CancellationToken.None));
        Assert.Contains("status command (for backend app): output not understood: line 2 is not 'SERVER STATUS [SESSIONS]'", e.Message);
        Assert.Contains("'<html>502 Bad Gateway</html>'", e.Message);
    }

    [Theory]
    [InlineData("web-1", "line 1")]
    [InlineData("web-1 SLEEPING", "line 1")]
    [InlineData("web-1 UP many", "line 1")]
    [InlineData("web-1 UP -1", "line 1")]
    [InlineData("web-1 UP 1 2", "line 1")]
    [InlineData("web;1 UP", "line 1")]
    [InlineData("web-1 UP\nweb-2 UP\nweb-1 DOWN", "line 3 names server 'web-1' a second time")]
    public void StatusLinesOfAnotherShape_AreRefused(string output, string message)
    {
        var e = Assert.Throws<FormatException>(() => ScriptBalancer.ParseStatus("app", output));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task AFailingCommand_IsABalancerError_WithTheEndOfItsStandardError()
    {
        var lb = Balancer(drain: "echo 'connecting to lb-api.internal' >&2; echo 'lb-api: 403 forbidden' >&2; exit 3",
            status: "echo 'no route to the balancer' >&2; exit 1");
        var e = await Assert.ThrowsAsync<ScriptBalancerException>(() => lb.SetStateAsync("app", "web-1", "maint", CancellationToken.None));
        Assert.Equal("drain command (for app/web-1, state maint) exited with code 3; stderr: connecting to lb-api.internal | lb-api: 403 forbidden", e.Message);
        Assert.IsAssignableFrom<LoadBalancerException>(e);

        var status = await Assert.ThrowsAsync<ScriptBalancerException>(() => lb.ShowBackendAsync("app", CancellationToken.None));
        Assert.Equal("status command (for backend app) exited with code 1; stderr: no route to the balancer", status.Message);

        // Through the set, the balancer's name is added, as for HAProxy.
        var set = new BalancerSet([new BalancerSpec("lb9", "", 1, 5, BalancerSpec.Script, lb.DrainCommand, lb.EnableCommand, lb.StatusCommand)]);
        var named = await Assert.ThrowsAsync<ScriptBalancerException>(() => set.BackendAsync("app", CancellationToken.None));
        Assert.StartsWith("load balancer 'lb9': status command (for backend app) exited with code 1", named.Message);
    }

    [Fact]
    public async Task ACommandRunningPastTheTimeout_IsStoppedWithItsChildren_AndIsABalancerError()
    {
        var pidFile = Path.Combine(_dir.Path, "child.pid");
        var lb = Balancer(enable: $"echo 'waiting for the api' >&2; sleep 300 & echo $! > {Quote(pidFile)}; wait", timeout: TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ScriptBalancerException>(() => lb.SetStateAsync("app", "web-1", "ready", CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), clock.Elapsed.ToString());
        Assert.Equal("enable command (for app/web-1, state ready) did not finish within 1 s and was stopped; stderr: waiting for the api", e.Message);

        var child = int.Parse(File.ReadAllText(pidFile).Trim());
        var gone = Stopwatch.StartNew();
        while (IsRunning(child))
        {
            Assert.True(gone.Elapsed < TimeSpan.FromSeconds(10), $"the command's child {child} is still running");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task ACancel_StopsTheCommand_AndIsACancel()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Balancer(status: "sleep 300").ShowBackendAsync("app", cancel.Token));
    }

    [Fact]
    public async Task AKindThisAgentDoesNotKnow_OrAScriptWithoutCommands_IsRefusedBeforeUse()
    {
        Assert.Null(BalancerSet.Check(new BalancerSpec("lb1", "/run/haproxy.sock", 1, 30)));
        Assert.Null(BalancerSet.Check(new BalancerSpec("lb1", "", 1, 30, "script", "a", "b", "c")));
        Assert.Contains("kind 'f5', which this agent does not know", BalancerSet.Check(new BalancerSpec("lb1", "", 1, 30, "f5")));
        Assert.Contains("without its drain, enable and status commands", BalancerSet.Check(new BalancerSpec("lb1", "", 1, 30, "script", "a", null, "c")));
        var set = new BalancerSet([new BalancerSpec("lb1", "", 1, 30, "f5")]);
        var e = await Assert.ThrowsAsync<LoadBalancerException>(() => set.SetStateAsync("app", "web-1", "drain", CancellationToken.None));
        Assert.Contains("does not know", e.Message);
    }

    /// <summary>Alive and not a zombie waiting to be reaped.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
