using Slipway.Contracts.Api;
using Slipway.Server.Tests.Deployments;
using Slipway.Testing;

namespace Slipway.Server.Tests.Gates;

/// <summary>
/// Quality gates, sign-offs and live checks on PostgreSQL: metrics, the gate hold, boolean and conditional-insert
/// columns, the evidence export, HTTP and script checks with their history.
/// </summary>
[Collection("postgres")]
public sealed class GatesPostgresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task GatesSignOffsAndChecks_OnPostgres()
    {
        using var app = new LoopbackHttp();
        var connection = await postgres.CreateDatabaseAsync();
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0, pipeline: QualityGateTests.FilePipeline, configure: o =>
        {
            o.Database = connection;
            o.LiveCheckInterval = TimeSpan.FromMilliseconds(200);
        });
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration p95 < 300 ms"));
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("metric", "staging", "http_req_duration p95 <= 1.10 x baseline"));
        await kit.Admin.AddGateAsync("shop", "production", new GateRequest("signoff", "staging", SignOffKind: "uat", Role: "analyst"));

        var version = await kit.ReleaseAsync("first", ("perf.json", QualityGateTests.Perf(200)));
        var staged = await kit.OnStagingAsync(version);
        Assert.Contains(await kit.Admin.GetRunMetricsAsync(staged.RunId!.Value), m => (m.Metric, m.Stat, m.Value) == ("http_req_duration", "p95", 200));
        var checklist = await kit.Admin.GetGateChecklistAsync("shop", version, "production");
        Assert.Equal(["passed", "inconclusive", "failed"], checklist.Gates.Select(g => g.Outcome));

        var signed = await kit.Ann.SignOffAsync("shop", version, new SignOffRequest("staging", "uat", true, "showcase went well"));
        await kit.Ann.AttachToSignOffAsync("shop", version, signed.Id, "notes.txt", "all fine"u8.ToArray());
        Assert.Equal(("accept", 1), ((await kit.Admin.ListSignOffsAsync("shop", version)).Single().Verdict, (await kit.Admin.ListSignOffsAsync("shop", version)).Single().Attachments!.Count));
        var held = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal(("awaiting_approval", true), (held.State, held.GateHold!.Contains("baseline")));
        await kit.Bob.ApproveDeploymentAsync("shop", held.Number, "first release on production");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(held.Number)).State);
        var csv = await kit.Admin.ExportDeploymentsAsync("shop", "production", null, null, "csv");
        Assert.Contains("inconclusive http_req_duration p95 <= 1.1", csv);

        await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(app.Url, Every: "1s", Watch: "15m"));
        await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(null, Every: "1s", Kind: "script", Script: "test \"$SLIPWAY_RELEASE\" = " + version));
        var health = await DeploymentKit.WaitAsync(async () => (await kit.Admin.GetEnvironmentHealthAsync("shop", "production")) is { Status: "healthy" } h ? h : null,
            "production healthy", seconds: 60);
        Assert.Equal(2, health.Checks.Count);
        Assert.All(health.Checks, c => Assert.Equal(true, c.Latest?.Ok));
        Assert.NotEmpty(await kit.Admin.ListRunsAsync("shop", 20, kind: "check"));
    }
}
