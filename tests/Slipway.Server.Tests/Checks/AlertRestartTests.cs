using Slipway.Core.Checks;
using Slipway.Testing;

namespace Slipway.Server.Tests.Checks;

/// <summary>
/// An alert outlives the server that raised it: queued while its receiver fails, the server stopped, the receiver
/// mended, and a server started again on the same data delivers it, once. (Alerts used to wait in the process's memory
/// and were lost with it.)
/// </summary>
public sealed class AlertRestartTests
{
    [Fact]
    public async Task AnAlertQueuedBeforeARestart_IsDeliveredAfterIt_Once()
    {
        using var receiver = new LoopbackHttp { Status = 500 };
        using var data = new TempDirectory();
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo ok"));
        void Configure(ServerOptions o)
        {
            o.AlertRetryDelay = TimeSpan.FromMilliseconds(200);
            o.AlertAttempts = 1000;
        }
        var alert = new CheckAlert(CheckVerdict.Failed, "shop", "production", 7, "#7 (http …)", "1.0.3", null, "status 500, expected 200",
            DateTimeOffset.UtcNow);

        await using (var first = await SlipwayTestServer.StartAsync(Configure, data.Path))
        {
            await first.CreateProjectAsync("shop", repo.Path);
            await first.Client.AddAlertWebhookAsync("shop", new Contracts.Api.AlertWebhookRequest(receiver.Url));
            var project = (await first.Service<ProjectStore>().FindAsync("shop"))!;
            await first.Service<AlertSender>().QueueAsync(project.Id, environmentId: 1, alert);
            await Until(() => receiver.Requests.Count >= 2, "two failed attempts before the stop");
            var shown = Assert.Single(await first.Client.ListAlertWebhooksAsync("shop")).LastDelivery!;
            Assert.Equal(("check.failed", "pending", "answered 500"), (shown.Event, shown.Status, shown.LastError));
        }
        var beforeRestart = receiver.Requests.Count;
        receiver.Status = 200;

        await using var second = await SlipwayTestServer.StartAsync(Configure, data.Path);
        await Until(() => receiver.Requests.Any(r => r.Answered == 200), "the alert's delivery by the restarted server");
        var delivered = Assert.Single(receiver.Requests, r => r.Answered == 200);
        Assert.Contains("\"check.failed\"", delivered.Body);
        Assert.Contains("status 500, expected 200", delivered.Body);
        var last = Assert.Single(await second.Client.ListAlertWebhooksAsync("shop")).LastDelivery!;
        Assert.Equal("delivered", last.Status);
        // Every request the receiver saw was an attempt; one more may have been counted without reaching it (cut by the stop).
        Assert.InRange(last.Attempts, beforeRestart + 1, beforeRestart + 2);
        var (exit, output, error) = await EndToEnd.CliRunner.AdminAsync(second, null, "alert", "list", "shop");
        Assert.True(exit == 0, error);
        Assert.Contains($"last alert: check.failed delivered at {last.FinishedAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({last.Attempts} attempts)", output);
        await Task.Delay(500);
        Assert.Single(receiver.Requests, r => r.Answered == 200); // delivered once
    }

    [Fact]
    public async Task WhatAHostileReceiverSends_NeverReachesTheDeliveryRecord_ThatViewersSee()
    {
        // Answers every connection with a banner instead of HTTP: .NET's error would quote it.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var socket = await listener.AcceptSocketAsync(stop.Token);
                    await socket.SendAsync("SSH-2.0-internal \u001b[31mBANNER secret-build-host\r\n\r\n"u8.ToArray(), System.Net.Sockets.SocketFlags.None);
                    socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException) { }
        });
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo ok"));
        await using var server = await SlipwayTestServer.StartAsync(o => { o.AlertRetryDelay = TimeSpan.FromHours(1); o.EmbeddedAgent = false; });
        await server.CreateProjectAsync("shop", repo.Path);
        await server.Client.AddAlertWebhookAsync("shop", new Contracts.Api.AlertWebhookRequest($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/hook"));
        var project = (await server.Service<ProjectStore>().FindAsync("shop"))!;
        await server.Service<AlertSender>().QueueAsync(project.Id, environmentId: 1,
            new CheckAlert(CheckVerdict.Failed, "shop", "production", 7, "#7", null, null, "status 500", DateTimeOffset.UtcNow));

        var shown = await Deployments.DeploymentKit.WaitAsync(async () =>
            (await server.Client.ListAlertWebhooksAsync("shop")).Single().LastDelivery is { LastError: not null } d ? d : null, "the failed attempt", seconds: 30);
        Assert.Equal("no answer (InvalidResponse)", shown.LastError);
        stop.Cancel();
        listener.Stop();
        await serving;
    }

    private static Task Until(Func<bool> condition, string what) =>
        Deployments.DeploymentKit.WaitAsync(() => Task.FromResult(condition() ? "" : null), what, seconds: 30);
}
