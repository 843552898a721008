using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.LastMile;

/// <summary>The targets API without a fleet: what it refuses, who may change targets, and that every change is audited.</summary>
public sealed class TargetApiTests : IAsyncLifetime
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

    [Theory]
    [InlineData("{\"name\":\"web;reboot\",\"host\":\"127.0.0.1\",\"roles\":[\"web\"]}", "invalid target name")]
    [InlineData("{\"name\":\"w1\",\"host\":\"-oProxyCommand=touch /tmp/x\",\"roles\":[\"web\"]}", "invalid address")]
    [InlineData("{\"name\":\"w1\",\"host\":\"127.0.0.1\",\"roles\":[\"web$(id)\"]}", "invalid role")]
    [InlineData("{\"name\":\"w1\",\"host\":\"127.0.0.1\",\"roles\":[\"web\"],\"balancerServer\":\"app/w1;disable\"}", "invalid load-balancer server")]
    [InlineData("{\"name\":\"w1\",\"host\":\"127.0.0.1\",\"roles\":[\"web\"],\"sshUser\":\"root -i\"}", "invalid SSH user")]
    [InlineData("{\"name\":\"w1\",\"host\":\"127.0.0.1\",\"roles\":[\"web\"],\"hostKey\":\"MD5:00\"}", "invalid host key fingerprint")]
    public async Task TargetFieldsWithMetacharacters_AreRefused(string body, string message)
    {
        using var http = new HttpClient { BaseAddress = new Uri(_server.Url) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", Testing.SlipwayTestServer.AdminToken);
        var response = await http.PostAsync("/api/v1/projects/shop/environments/production/targets",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Targets_AreAddedChangedAndRemoved_WithEveryChangeAudited()
    {
        var admin = _server.Client;
        var fingerprint = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
        var t = await admin.AddTargetAsync("shop", "production", new TargetRequest("web-1", "10.0.0.5", null, null, ["web"], "app/web-1", fingerprint, null));
        Assert.Equal((22, "deploy", "app/web-1", fingerprint, false), (t.SshPort, t.SshUser, t.BalancerServer, t.HostKey, t.Disabled));
        var conflict = await Assert.ThrowsAsync<SlipwayApiException>(() => admin.AddTargetAsync("shop", "production",
            new TargetRequest("web-1", "10.0.0.6", null, null, ["web"], null, null, null)));
        Assert.Contains("already has a target 'web-1'", conflict.Message);
        t = await admin.EditTargetAsync("shop", "production", "web-1", new TargetRequest(null, null, 2222, null, null, "", null, true));
        Assert.Equal((2222, (string?)null, true, fingerprint), (t.SshPort, t.BalancerServer, t.Disabled, t.HostKey));
        Assert.Single(await admin.ListTargetsAsync("shop", "production"));
        await admin.RemoveTargetAsync("shop", "production", "web-1");
        Assert.Empty(await admin.ListTargetsAsync("shop", "production"));
        var details = (await admin.ListAuditAsync(new AuditFilterOptions(Action: "env.manage", Limit: 100))).Select(e => e.Detail ?? "").ToList();
        Assert.Contains(details, d => d.StartsWith("target 'web-1' of 'production' added: deploy@10.0.0.5:22, roles [web], behind app/web-1, host key pinned " + fingerprint));
        Assert.Contains(details, d => d.StartsWith("target 'web-1' of 'production' changed: deploy@10.0.0.5:2222, roles [web], disabled"));
        Assert.Contains(details, d => d.StartsWith("target 'web-1' of 'production' removed"));
    }

    [Fact]
    public async Task ADeveloper_MayReadTargetsButNotChangeThem()
    {
        using var dev = new SlipwayClient(_server.Url, await Access.AccessTestKit.UserWithRoleAsync(_server, "dev", Core.Access.BuiltInRoles.Developer));
        await _server.Client.AddTargetAsync("shop", "production", new TargetRequest("web-1", "10.0.0.5", null, null, ["web"], null, null, null));
        var refused = await Assert.ThrowsAsync<SlipwayApiException>(() => dev.EditTargetAsync("shop", "production", "web-1",
            new TargetRequest(null, "10.6.6.6", null, null, null, null, null, null)));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.Status);
        await Assert.ThrowsAsync<SlipwayApiException>(() => dev.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest(null, "/run/x.sock", null, null)));
    }

    [Theory]
    [InlineData("relative.sock", "neither an absolute unix socket path nor host:port")]
    [InlineData("host:99999", "neither an absolute unix socket path nor host:port")]
    [InlineData("/run/a b.sock", "without spaces")]
    public async Task BalancerAddresses_AreChecked(string address, string message)
    {
        var e = await Assert.ThrowsAsync<SlipwayApiException>(() => _server.Client.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest(null, address, null, null)));
        Assert.Contains(message, e.Message);
    }
}
