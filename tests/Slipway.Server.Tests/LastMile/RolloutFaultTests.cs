using Slipway.Client;
using Slipway.Testing;
using Slipway.Contracts.Api;

namespace Slipway.Server.Tests.LastMile;

/// <summary>
/// Bad input and faults of the last mile on one fleet of 3 hosts: a changed host key (a man in the middle), an unreachable
/// host, a window that would take every server down, a role matching no target, a runtime socket that refuses, names with
/// shell metacharacters. Each leaves the load balancer as it was, and says why.
/// </summary>
public sealed class RolloutFaultTests : IAsyncLifetime
{
    private FleetKit _kit = null!;
    private string _version = "";

    public async Task InitializeAsync()
    {
        _kit = await FleetKit.StartAsync(hosts: 3, window: "1", minHealthy: 1);
        _version = await _kit.ReleaseAsync("feature");
    }

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    private SlipwayClient Admin => _kit.Admin;

    private async Task<DeploymentDto> DeployAsync() => await _kit.WaitForDeploymentAsync((await Admin.DeployAsync("shop", _version, "production")).Number);

    private Task EditAsync(string target, TargetRequest request) => Admin.EditTargetAsync("shop", "production", target, request);

    private static TargetRequest Change(string? host = null, int? port = null, string? hostKey = null, IReadOnlyList<string>? roles = null) =>
        new(null, host, port, null, roles, null, hostKey, null);

    [Fact]
    public async Task AChangedHostKey_FailsThatTargetBeforeAnythingIsSentOrDrained_NamingBothFingerprints()
    {
        var h2 = _kit.Fleet.Hosts[1];
        var impostor = _kit.Fleet.Hosts[0].Fingerprint; // what h2 "should" present
        await EditAsync("h2", Change(hostKey: impostor));
        var d = await DeployAsync();

        Assert.Equal("failed", d.State);
        var targets = d.Targets!.ToDictionary(t => t.Target);
        Assert.Equal("succeeded", targets["h1"].State);
        Assert.Equal("failed", targets["h2"].State);
        Assert.Null(targets["h2"].BalancerState); // never taken out of rotation
        Assert.Contains(impostor, targets["h2"].Reason);
        Assert.Contains(h2.Fingerprint, targets["h2"].Reason);
        Assert.Equal("not-run", targets["h3"].State);
        Assert.Equal("v0", h2.ReadCurrentVersion());
        Assert.Empty(Directory.GetFiles(h2.Incoming)); // nothing was sent
        await _kit.Fleet.WaitAllUpAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AnUnknownHostKey_RefusesTheConnection()
    {
        await EditAsync("h1", Change(hostKey: ""));
        var d = await DeployAsync();
        var h1 = d.Targets!.Single(t => t.Target == "h1");
        Assert.Equal(("failed", (string?)null), (h1.State, h1.BalancerState));
        Assert.Contains("no host key pinned", h1.Reason);
        Assert.Contains(_kit.Fleet.Hosts[0].Fingerprint, h1.Reason);
    }

    [Fact]
    public async Task AnUnreachableHost_TimesOutAndFailsThatTarget()
    {
        await EditAsync("h1", Change(port: FreePort.Get()));
        var d = await DeployAsync();
        var h1 = d.Targets!.Single(t => t.Target == "h1");
        Assert.Equal(("failed", (string?)null), (h1.State, h1.BalancerState));
        Assert.Contains("127.0.0.11", h1.Reason);
    }

    [Fact]
    public async Task AWindowThatWouldTakeEveryServerDown_IsRefusedBeforeAnythingRuns()
    {
        await Admin.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest(null, null, 3, null));
        var d = await DeployAsync();
        Assert.Equal("failed", d.State);
        Assert.Contains("min-healthy", d.Outcome);
        Assert.Contains("nothing ran", d.Outcome);
        Assert.Null(d.RunId);
        Assert.All(_kit.Fleet.Hosts, h => Assert.Equal("v0", h.ReadCurrentVersion()));
    }

    [Fact]
    public async Task ARoleMatchingNoTarget_IsRefusedWhenPlanning()
    {
        foreach (var h in _kit.Fleet.Hosts) await EditAsync(h.Name, Change(roles: ["worker"]));
        var d = await DeployAsync();
        Assert.Equal("failed", d.State);
        Assert.Contains("role 'web' matches no enabled target; the environment's roles are: worker", d.Outcome);
    }

    [Fact]
    public async Task ARuntimeApiThatRefuses_StopsTheBatchBeforeAnyTargetIsTouched()
    {
        await Admin.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest(null, _kit.Fleet.RuntimeSocket + ".missing", null, null));
        var d = await DeployAsync();
        Assert.Equal("failed", d.State);
        Assert.Contains("batch 1 not started: the load balancers could not be read", d.Outcome);
        Assert.All(d.Targets!, t => Assert.Equal("not-run", t.State));
    }
}
