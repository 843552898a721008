using Slipway.Server.Tests.EndToEnd;
using Slipway.Testing;

namespace Slipway.Server.Tests.Deployments;

/// <summary>The deployment commands as a user types them: env, status, promote, approve, reject, deployment show/export.</summary>
public sealed class DeploymentCliTests
{
    private static Task<(int Exit, string Out, string Err)> As(SlipwayTestServer server, string token, params string[] args) =>
        CliRunner.AsAsync(server, token, args);

    [Fact]
    public async Task PromoteApproveStatusExport_ThroughTheCli()
    {
        await using var kit = await DeploymentKit.StartAsync();
        var server = kit.Server;
        var admin = SlipwayTestServer.AdminToken;
        var ann = (await Access.AccessTestKit.LoginAsync(server, "ann")).Token;
        var bob = (await Access.AccessTestKit.LoginAsync(server, "bob")).Token;
        var dev = (await Access.AccessTestKit.LoginAsync(server, "dev")).Token;
        var staging = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(), "staging");
        await kit.WaitForDeploymentAsync(staging.Number);

        var list = await As(server, admin, "env", "list", "shop");
        Assert.Contains("production", list.Out);
        Assert.Contains("deployers: role:analyst role:admin", list.Out);
        var created = await As(server, admin, "env", "create", "shop", "qa", "--position", "5", "--pool", "build", "--queue", "newest-wins", "--optional", "true");
        Assert.True(created.Exit == 0, created.Err);
        Assert.Contains("qa", created.Out);
        var freeze = await As(server, admin, "env", "freeze", "add", "shop", "qa", "--name", "weekend", "--cron", "0 16 * * FRI", "--duration", "64h", "--time-zone", "Europe/Berlin");
        Assert.True(freeze.Exit == 0, freeze.Err);

        var refused = await As(server, dev, "promote", "shop", "--to", "production");
        Assert.Equal(1, refused.Exit);
        Assert.Contains("deployer", refused.Err);
        var promote = await As(server, ann, "promote", "shop", "--to", "production", "--json");
        Assert.True(promote.Exit == 0, promote.Err);
        var number = System.Text.Json.JsonDocument.Parse(promote.Out).RootElement.GetProperty("number").GetInt64().ToString();
        var own = await As(server, ann, "approve", "shop", number);
        Assert.Equal(1, own.Exit);
        Assert.Contains("initiator-not-approver", own.Err);
        var approve = await As(server, bob, "approve", "shop", number, "--comment", "looks good");
        Assert.True(approve.Exit == 0, approve.Err);
        Assert.Contains("approve by bob", approve.Out);
        await kit.WaitForDeploymentAsync(long.Parse(number));

        // deploy and promote take the environment with --to; rollback's --to is the release, and says so.
        var confused = await As(server, ann, "rollback", "shop", "--to", "production");
        Assert.Equal(2, confused.Exit);
        Assert.Contains("error: name the environment with --env (here --to is the release to return to): slipway rollback shop --env production [--to VERSION]", confused.Err);
        var status = await As(server, ann, "status", "shop");
        Assert.Matches(@"(?m)^production\s+1\.0\.1\s+\S+ \S+\s+ann", status.Out);
        var show = await As(server, ann, "deployment", "show", "shop", number);
        Assert.Contains("succeeded", show.Out);
        Assert.Contains("artifact ", show.Out);
        var export = await As(server, ann, "deployment", "export", "shop", "--env", "production");
        Assert.Equal(2, export.Out.Trim().Split('\n').Length);
        Assert.Contains("approve by bob", export.Out);
        var reject = await As(server, bob, "reject", "shop", number, "--reason", "too late");
        Assert.Equal(1, reject.Exit);
        Assert.Contains("has already finished (succeeded)", reject.Err);
    }
}
