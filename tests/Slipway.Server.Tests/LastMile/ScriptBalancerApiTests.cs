using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.LastMile;

/// <summary>Script load balancers through the API and the CLI, without a fleet: what is refused, what is kept, what is audited.</summary>
public sealed class ScriptBalancerApiTests : IAsyncLifetime
{
    private SlipwayTestServer _server = null!;
    private GitRepository _repo = null!;

    public async Task InitializeAsync()
    {
        _server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
        _repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await _server.Client.CreateProjectAsync("shop", _repo.Path, "main");
        await _server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 0, false, "build", [], 0, null, false, null));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    private SlipwayClient Admin => _server.Client;

    private Task<BalancerDto> SetAsync(BalancerRequest request, string name = "lb1") => Admin.SetBalancerAsync("shop", "production", name, request);

    private static BalancerRequest Script(string? drain = "lb drain", string? enable = "lb enable", string? status = "lb status", string? address = null) =>
        new("script", address, null, null, drain, enable, status);

    public static TheoryData<string, BalancerRequest, string> Refusals => new()
    {
        { "no commands", new BalancerRequest("script", null, null, null), "a script load balancer needs all three commands (drainCommand, enableCommand, statusCommand); missing: drainCommand, enableCommand, statusCommand" },
        { "one missing", Script(status: null), "missing: statusCommand" },
        { "a blank one", Script(enable: "  "), "missing: enableCommand" },
        { "an address", Script(address: "/run/haproxy.sock"), "a script load balancer has no address" },
        { "too long", Script(drain: "echo " + new string('x', 3996)), "drainCommand is 4001 characters long; at most 4000" },
        { "a NUL", Script(status: "lb status\0rm -rf /"), "statusCommand contains a NUL character" },
        { "haproxy with a command", new BalancerRequest("haproxy", "/run/haproxy.sock", null, null, "lb drain"), "a haproxy load balancer takes an address, not commands" },
        { "another kind", new BalancerRequest("f5", null, null, null), "load balancer kind 'f5' is not supported; use haproxy or script" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task InvalidScriptBalancers_AreRefusedWith400(string why, BalancerRequest request, string message)
    {
        var e = await Assert.ThrowsAsync<SlipwayApiException>(() => SetAsync(request));
        Assert.True(e.Status == System.Net.HttpStatusCode.BadRequest, why);
        Assert.Contains(message, e.Message);
        Assert.Empty(await Admin.ListBalancersAsync("shop", "production"));
    }

    [Fact]
    public async Task AScriptBalancer_KeepsItsCommandsWhenChanged_AndLosesThemWhenItBecomesHaproxy()
    {
        var lb = await SetAsync(new BalancerRequest("script", null, 2, "10s", "lb drain", "lb enable", "lb status"));
        Assert.Equal(("script", "", 2, 10, "lb drain", "lb enable", "lb status"),
            (lb.Kind, lb.Address, lb.MinHealthy, lb.DrainTimeoutSeconds, lb.DrainCommand, lb.EnableCommand, lb.StatusCommand));

        lb = await SetAsync(new BalancerRequest(null, null, null, null, EnableCommand: "lb enable --now"));
        Assert.Equal(("script", 2, "lb drain", "lb enable --now", "lb status"), (lb.Kind, lb.MinHealthy, lb.DrainCommand, lb.EnableCommand, lb.StatusCommand));

        // Another kind keeps nothing of the former one: haproxy needs its address again, and has no commands.
        var e = await Assert.ThrowsAsync<SlipwayApiException>(() => SetAsync(new BalancerRequest("haproxy", null, null, null)));
        Assert.Contains("give the runtime API 'address'", e.Message);
        lb = await SetAsync(new BalancerRequest("haproxy", "/run/haproxy.sock", null, null));
        Assert.Equal(("haproxy", "/run/haproxy.sock", 2, (string?)null, (string?)null, (string?)null),
            (lb.Kind, lb.Address, lb.MinHealthy, lb.DrainCommand, lb.EnableCommand, lb.StatusCommand));
        e = await Assert.ThrowsAsync<SlipwayApiException>(() => SetAsync(new BalancerRequest("script", null, null, null, "lb drain")));
        Assert.Contains("missing: enableCommand, statusCommand", e.Message);

        var audit = await Admin.ListAuditAsync(new AuditFilterOptions(Action: "env.manage", Limit: 100));
        Assert.Contains(audit, a => a.Detail is { } d && d.StartsWith("load balancer 'lb1' of 'production' added: script (drain command: lb drain; " +
                                                                      "enable command: lb enable; status command: lb status), min_healthy 2, drain timeout 10s;", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Detail is { } d && d.StartsWith("load balancer 'lb1' of 'production' changed: haproxy at /run/haproxy.sock, min_healthy 2, drain timeout 10s;",
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADeveloper_MayNotSetAScriptBalancer()
    {
        using var dev = new SlipwayClient(_server.Url, await Access.AccessTestKit.UserWithRoleAsync(_server, "dev", Core.Access.BuiltInRoles.Developer));
        var e = await Assert.ThrowsAsync<SlipwayApiException>(() => dev.SetBalancerAsync("shop", "production", "lb1", Script()));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.Status);
    }

    [Fact]
    public async Task TheCli_SetsAndListsAScriptBalancer()
    {
        var (exit, output, error) = await EndToEnd.CliRunner.AdminAsync(_server, null, "balancer", "set", "shop", "production", "lb2", "--kind", "script",
            "--drain-command", "/opt/lb/ctl drain \"$SLIPWAY_LB_SERVER\"", "--enable-command", "/opt/lb/ctl enable \"$SLIPWAY_LB_SERVER\"",
            "--status-command", "/opt/lb/ctl status", "--min-healthy", "2", "--drain-timeout", "45s");
        Assert.True(exit == 0, output + error);
        Assert.StartsWith("load balancer lb2: script, min_healthy 2, drain timeout 45s", output);
        (exit, output, error) = await EndToEnd.CliRunner.AdminAsync(_server, null, "balancer", "list", "shop", "production");
        Assert.True(exit == 0, output + error);
        Assert.Contains("  drain:  /opt/lb/ctl drain \"$SLIPWAY_LB_SERVER\"", output);
        Assert.Contains("  status: /opt/lb/ctl status", output);
        var lb = (await Admin.ListBalancersAsync("shop", "production")).Single();
        Assert.Equal(("script", "/opt/lb/ctl enable \"$SLIPWAY_LB_SERVER\""), (lb.Kind, lb.EnableCommand));
    }
}
