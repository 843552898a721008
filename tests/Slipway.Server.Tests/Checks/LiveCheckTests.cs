using System.Net;
using System.Text.Json;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Server.Tests.Deployments;
using Slipway.Testing;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Checks;

/// <summary>
/// Live checks end to end: a real server probes a small HTTP app of the test's, a failure inside the watch window of
/// production's latest deployment rolls production back (rollback: auto) once, a failure outside it only alerts, and
/// alerts reach a webhook receiver of the test's, retried when it answers 500.
/// </summary>
public sealed class LiveCheckTests
{
    private static Task<DeploymentKit> StartAsync() => DeploymentKit.StartAsync(productionApprovals: 0, configure: o =>
    {
        o.LiveCheckInterval = TimeSpan.FromMilliseconds(200);
        o.AlertRetryDelay = TimeSpan.FromMilliseconds(100);
    });

    /// <summary>Releases two versions and promotes each to production (staging auto-deploys them first).</summary>
    private static async Task<(string First, string Second)> TwoReleasesInProductionAsync(DeploymentKit kit)
    {
        var first = await kit.ReleaseAsync("first");
        await kit.OnStagingAsync(first);
        await PromoteAsync(kit);
        var second = await kit.ReleaseAsync("second", ("VERSION", "2"));
        await kit.OnStagingAsync(second);
        await PromoteAsync(kit);
        return (first, second);
    }

    private static async Task PromoteAsync(DeploymentKit kit)
    {
        var d = await kit.Ann.PromoteAsync("shop", "production");
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(d.Number)).State);
    }

    private static async Task<List<DeploymentDto>> RollbacksAsync(SlipwayClient client) =>
        (await client.ListDeploymentsAsync("shop", "production")).Where(d => d.Kind == "rollback").ToList();

    private static Task<string> AlertAsync(LoopbackHttp receiver, string @event) =>
        DeploymentKit.WaitAsync(() => Task.FromResult(receiver.Requests.Where(r => r.Answered == 200).Select(r => r.Body)
            .FirstOrDefault(b => b.Contains($"\"{@event}\""))), $"an alert {@event}", seconds: 20);

    [Fact]
    public async Task FailingCheck_InsideTheWatchWindow_RollsProductionBackOnce_AndAlerts()
    {
        using var app = new LoopbackHttp();
        using var receiver = new LoopbackHttp();
        await using var kit = await StartAsync();
        var (first, second) = await TwoReleasesInProductionAsync(kit);
        await kit.Admin.AddAlertWebhookAsync("shop", new AlertWebhookRequest(receiver.Url, "json"));
        var check = await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(app.Url, 200, "healthy", "2s", Every: "1s", Watch: "15m"));
        await DeploymentKit.WaitAsync(async () => (await kit.Admin.GetEnvironmentHealthAsync("shop", "production")) is { Status: "healthy" } h ? h : null, "healthy");
        Assert.Empty(await RollbacksAsync(kit.Admin));

        app.Status = 500;
        var rollback = await DeploymentKit.WaitAsync(async () => (await RollbacksAsync(kit.Admin)).FirstOrDefault(), "a rollback deployment", seconds: 20);
        Assert.Equal((first, "slipway"), (rollback.Release, rollback.Initiator));
        Assert.Equal("succeeded", (await kit.WaitForDeploymentAsync(rollback.Number)).State);

        using var alert = JsonDocument.Parse(await AlertAsync(receiver, "check.rollback"));
        Assert.Equal(("shop", "production", second), (alert.RootElement.GetProperty("project").GetString(), alert.RootElement.GetProperty("environment").GetString(),
            alert.RootElement.GetProperty("release").GetString()));
        Assert.Contains("status 500", alert.RootElement.GetProperty("detail").GetString());

        // The failure goes on: the rollback's own window asks a person (undoing a rollback is never automatic), and no second rollback comes.
        await AlertAsync(receiver, "check.needs-decision");
        await Task.Delay(1500);
        Assert.Single(await RollbacksAsync(kit.Admin));
        var history = await kit.Admin.GetCheckResultsAsync("shop", "production", check.Id);
        Assert.Contains(history, r => !r.Ok && r.StatusCode == 500 && r.Deployment is not null);
        Assert.Contains(history, r => r.Ok);
        Assert.Equal("failing", (await kit.Admin.GetEnvironmentHealthAsync("shop", "production")).Status);
        var audit = await kit.Admin.ListAuditAsync(new AuditFilterOptions(Actor: "slipway"));
        Assert.Contains(audit, e => e.Detail?.StartsWith($"automatic rollback of 'production' to {first}") == true && e.Detail.Contains("watch window"));
        Assert.DoesNotContain(audit, e => e.Detail?.Contains("secret-path-token") == true);
    }

    [Fact]
    public async Task FailingCheck_OutsideTheWatchWindow_OnlyAlerts()
    {
        using var app = new LoopbackHttp();
        using var receiver = new LoopbackHttp();
        await using var kit = await StartAsync();
        await TwoReleasesInProductionAsync(kit);
        await kit.Admin.AddAlertWebhookAsync("shop", new AlertWebhookRequest(receiver.Url, "slack", "production"));
        await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(app.Url, Every: "1s", Watch: "0s"));
        await DeploymentKit.WaitAsync(async () => (await kit.Admin.GetEnvironmentHealthAsync("shop", "production")) is { Status: "healthy" } h ? h : null, "healthy");

        app.Status = 503;
        var text = await DeploymentKit.WaitAsync(() => Task.FromResult(receiver.Bodies.FirstOrDefault()), "a slack alert", seconds: 20);
        using var slack = JsonDocument.Parse(text);
        Assert.Contains("[shop/production] check #", slack.RootElement.GetProperty("text").GetString());
        Assert.Contains("failed", slack.RootElement.GetProperty("text").GetString());
        await Task.Delay(1500);
        Assert.Empty(await RollbacksAsync(kit.Admin));
        Assert.Single(receiver.Bodies); // still failing: told once, not at every run

        app.Status = 200;
        await DeploymentKit.WaitAsync(() => Task.FromResult(receiver.Bodies.FirstOrDefault(b => b.Contains("recovered"))), "a recovery alert", seconds: 20);
        var audit = await kit.Admin.ListAuditAsync(new AuditFilterOptions(Actor: "slipway"));
        Assert.Contains(audit, e => e.Detail?.Contains("outside any watch window: alert only") == true);
    }

    [Fact]
    public async Task AlertWebhook_Answering500_IsRetriedUntilItTakesTheAlert()
    {
        using var app = new LoopbackHttp { Status = 500 };
        using var receiver = new LoopbackHttp(failFirst: 2);
        await using var kit = await StartAsync();
        var hook = await kit.Admin.AddAlertWebhookAsync("shop", new AlertWebhookRequest(receiver.Url));
        Assert.DoesNotContain("secret-path-token", hook.Url);
        // On production, where nothing is deployed in this test: every failure is outside a watch window, so the alert is
        // check.failed. (On staging a release's auto-deployment could win the race on a loaded machine, and the failure then
        // fell in its window and alerted check.rollback instead: the test waited for an event that never came.)
        await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(app.Url, Every: "1s"));

        await AlertAsync(receiver, "check.failed");
        Assert.Equal([500, 500, 200], receiver.Requests.Select(r => r.Answered).ToArray());
        Assert.Single((await kit.Admin.ListAlertWebhooksAsync("shop")));
    }

    [Fact]
    public async Task DeadWebhooks_WaitingOutTheirBackoff_DoNotDelayTheAlertsOfOthers()
    {
        using var app = new LoopbackHttp { Status = 500 };
        using var dead = new LoopbackHttp(failFirst: 1000);
        using var alive = new LoopbackHttp();
        // Backoff of 5 s, doubled: the dead receivers' deliveries wait a long time between attempts.
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 0, configure: o =>
        {
            o.LiveCheckInterval = TimeSpan.FromMilliseconds(200);
            o.AlertRetryDelay = TimeSpan.FromSeconds(5);
        });
        // More dead webhooks than the sender sends at once (4), added before the live one.
        for (var i = 0; i < 6; i++) await kit.Admin.AddAlertWebhookAsync("shop", new AlertWebhookRequest(dead.Url + "/" + i));
        await kit.Admin.AddAlertWebhookAsync("shop", new AlertWebhookRequest(alive.Url));
        // On production, where nothing is deployed here: every failure is outside a watch window (check.failed). On staging
        // the first release's auto-deployment can win the race, and the failure then alerts check.rollback instead.
        await kit.Admin.AddCheckAsync("shop", "production", new CheckRequest(app.Url, Every: "1s"));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await DeploymentKit.WaitAsync(() => Task.FromResult(alive.Requests.Select(r => r.Body).FirstOrDefault(b => b.Contains("\"check.failed\""))),
            "the live receiver's alert", seconds: 20);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"the live receiver waited {watch.Elapsed.TotalSeconds:0.0} s behind the dead ones");
        Assert.True(dead.Requests.Count >= 6);
    }

    [Fact]
    public async Task Checks_AreManagedByAdminsOnly_AndValidated()
    {
        await using var kit = await StartAsync();
        var request = new CheckRequest("http://127.0.0.1:9/health", Every: "5m");
        await Refused(() => kit.Dev.AddCheckAsync("shop", "production", request), HttpStatusCode.Forbidden);
        await Refused(() => kit.Ann.AddAlertWebhookAsync("shop", new AlertWebhookRequest("http://127.0.0.1:9/")), HttpStatusCode.Forbidden);
        var check = await kit.Admin.AddCheckAsync("shop", "production", request);
        await Refused(() => kit.Dev.RemoveCheckAsync("shop", "production", check.Id), HttpStatusCode.Forbidden);
        Assert.Single(await kit.Dev.ListChecksAsync("shop", "production"));
        Assert.Equal(("every 5m", "15m", "10s"), (check.Schedule, check.Watch, check.Timeout));

        await Refused(() => kit.Admin.AddCheckAsync("shop", "production", request with { Url = "file:///etc/passwd" }), HttpStatusCode.BadRequest);
        await Refused(() => kit.Admin.AddCheckAsync("shop", "production", request with { Timeout = "2m" }), HttpStatusCode.BadRequest);
        await Refused(() => kit.Admin.AddCheckAsync("shop", "production", request with { Cron = "*/5 * * * *" }), HttpStatusCode.BadRequest);
        await Refused(() => kit.Admin.AddCheckAsync("shop", "production", request with { Every = null, Cron = "*/5 * * * *", TimeZone = "Mars/Olympus" }),
            HttpStatusCode.BadRequest);
        var cron = await kit.Admin.AddCheckAsync("shop", "production", request with { Every = null, Cron = "*/5 * * * *", TimeZone = "Europe/Berlin" });
        Assert.Equal("cron '*/5 * * * *' Europe/Berlin", cron.Schedule);

        await kit.Admin.RemoveCheckAsync("shop", "production", check.Id);
        Assert.Equal([cron.Id], (await kit.Admin.ListChecksAsync("shop", "production")).Select(c => c.Id));
        var audit = await kit.Admin.ListAuditAsync(new AuditFilterOptions(Action: "check.manage"));
        Assert.Contains(audit, e => e.Actor == "dev" && e.Outcome == "denied");
        Assert.Contains(audit, e => e.Detail?.StartsWith($"check {check.Id} removed") == true);
    }
}
