using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.Storage;

/// <summary>The load balancers' columns on PostgreSQL (migration 0018: a script balancer's commands).</summary>
[Collection("postgres")]
public sealed class PostgresBalancerTests(PostgresFixture postgres)
{
    [Fact]
    public async Task AScriptBalancer_IsStoredAndChanged_OnPostgreSql()
    {
        var connection = await postgres.CreateDatabaseAsync();
        using var data = new TempDirectory();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await using var server = await SlipwayTestServer.StartAsync(o => { o.Database = connection; o.PollInterval = TimeSpan.FromHours(1); }, data.Path);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 0, false, "build", [], 0, null, false, null));

        await server.Client.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest("script", null, 2, "20s", "lb drain", "lb enable", "lb status"));
        await server.Client.SetBalancerAsync("shop", "production", "lb1", new BalancerRequest(null, null, null, null, StatusCommand: "lb status --all"));
        await server.Client.SetBalancerAsync("shop", "production", "lb2", new BalancerRequest("haproxy", "/run/haproxy.sock", null, null));

        var all = await server.Client.ListBalancersAsync("shop", "production");
        Assert.Equal(("lb1", "script", "", 2, 20, "lb drain", "lb enable", "lb status --all"),
            (all[0].Name, all[0].Kind, all[0].Address, all[0].MinHealthy, all[0].DrainTimeoutSeconds, all[0].DrainCommand, all[0].EnableCommand, all[0].StatusCommand));
        Assert.Equal(("lb2", "haproxy", "/run/haproxy.sock", (string?)null), (all[1].Name, all[1].Kind, all[1].Address, all[1].StatusCommand));
    }
}
