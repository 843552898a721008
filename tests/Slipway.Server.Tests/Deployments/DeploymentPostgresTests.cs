using System.Net;
using Slipway.Testing;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Deployments;

/// <summary>Environments and deployments on PostgreSQL: the migration, approvals, the lock, rollback and the dashboard.</summary>
[Collection("postgres")]
public sealed class DeploymentPostgresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task PromoteApproveRollBack_OnPostgres()
    {
        var connection = await postgres.CreateDatabaseAsync();
        await using var kit = await DeploymentKit.StartAsync(configure: o => o.Database = connection);
        var first = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(), "first release");
        var staging = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(), "staging");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(staging.Number)).State);

        var promotion = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Contains("initiator-not-approver", (await Refused(() => kit.Ann.ApproveDeploymentAsync("shop", promotion.Number, null), HttpStatusCode.Forbidden)).Message);
        await kit.Bob.ApproveDeploymentAsync("shop", promotion.Number, "ok");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(promotion.Number)).State);

        var second = await kit.ReleaseAsync("break production", ("BROKEN-production", "x"));
        await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(d => d.Release == second && d.State == "succeeded"), "staging 2");
        var promotion2 = await kit.Ann.PromoteAsync("shop", "production");
        await kit.Bob.ApproveDeploymentAsync("shop", promotion2.Number, null);
        Assert.Equal("failed", (await kit.WaitForDeploymentAsync(promotion2.Number)).State);
        var rollback = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListDeploymentsAsync("shop", "production")).FirstOrDefault(d => d.Kind == "rollback"), "rollback");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(rollback.Number)).State);
        var cells = (await kit.Ann.GetDashboardAsync("shop")).Environments;
        Assert.Equal([("staging", second), ("production", first.Version)], cells.Select(c => (c.Environment, c.Current!.Release)));
        Assert.Equal(4, (await kit.Ann.ExportDeploymentsAsync("shop", "production", null, null, "csv")).Trim().Split('\n').Length);

        // Freeze windows and environment secrets round-trip through PostgreSQL's columns (boolean, bigint, text).
        var staged = await kit.Admin.AddFreezeAsync("shop", "staging", new Contracts.Api.FreezeWindowRequest("weekly", "0 16 * * FRI", "1h", "Europe/Berlin", null, null));
        Assert.Equal(("0 16 * * FRI", 3600L, "Europe/Berlin"), (staged.Freezes.Single().Cron, staged.Freezes.Single().DurationSeconds, staged.Freezes.Single().TimeZone));
        await kit.Admin.SetEnvironmentVariableAsync("shop", "production", "API_TOKEN", "s3cret-token", secret: true);
        var variable = (await kit.Admin.GetEnvironmentAsync("shop", "production")).Variables.Single();
        Assert.Equal(("API_TOKEN", true, null), (variable.Name, variable.Secret, variable.Value));
        // A secret is never made plain by setting a value (the stored flag is read back as a boolean here).
        var plain = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() =>
            kit.Admin.SetEnvironmentVariableAsync("shop", "production", "API_TOKEN", "now-plain", secret: false));
        Assert.Equal((HttpStatusCode.Conflict, true), (plain.Status, plain.Message.Contains("'API_TOKEN' is a secret")));
        await kit.Admin.SetEnvironmentVariableAsync("shop", "production", "API_TOKEN", "s3cret-token-2", secret: true);
        Assert.True((await kit.Admin.GetEnvironmentAsync("shop", "production")).Variables.Single().Secret);

        // Five promotions and five additions of one gate at once: checked again in the write, under a lock per environment
        // that holds across nodes, so one of each goes through.
        var clicks = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            try { return (Contracts.Api.DeploymentDto?)await kit.Ann.PromoteAsync("shop", "production"); }
            catch (Slipway.Client.SlipwayApiException e) when (e.Status == HttpStatusCode.Conflict && e.Message.Contains("already on its way")) { return null; }
        }));
        var through = Assert.Single(clicks, c => c is not null)!;
        Assert.Equal((second, "awaiting_approval"), (through.Release, through.State));
        await kit.Ann.CancelDeploymentAsync("shop", through.Number);
        var gates = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            try { return (Contracts.Api.GateDto?)await kit.Admin.AddGateAsync("shop", "production", new Contracts.Api.GateRequest("verify", "staging")); }
            catch (Slipway.Client.SlipwayApiException e) when (e.Status == HttpStatusCode.Conflict) { return null; }
        }));
        Assert.Single(gates, g => g is not null);
        Assert.Single(await kit.Admin.ListGatesAsync("shop", "production"));
    }
}
