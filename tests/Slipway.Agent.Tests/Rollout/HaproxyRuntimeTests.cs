using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Slipway.Agent.Execution.Rollout;
using Slipway.Testing;
using Slipway.Testing.Fleet;
using Xunit.Abstractions;

namespace Slipway.Agent.Tests.Rollout;

/// <summary>The runtime API client against a real HAProxy of a simulated fleet, and the fleet harness itself.</summary>
public sealed class HaproxyRuntimeTests(TwoHostFleet fixture, ITestOutputHelper output) : IClassFixture<TwoHostFleet>
{
    private SimulatedFleet Fleet => fixture.Fleet;
    private HaproxyRuntime Runtime => new(Fleet.RuntimeSocket);

    private async Task<string> StatusOf(string server) =>
        (await Runtime.ShowStatAsync(CancellationToken.None)).Single(s => s.Backend == SimulatedFleet.Backend && s.Server == server).Status;

    private async Task WaitForStatus(string server, Func<string, bool> wanted, string what)
    {
        var watch = Stopwatch.StartNew();
        string status;
        while (!wanted(status = await StatusOf(server)))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{server} stayed {status}, expected {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task TheFleet_Starts_ServesV0ThroughTheFrontend_AndListsEveryServerUp()
    {
        output.WriteLine($"fleet of {Fleet.Hosts.Count} started in {Fleet.StartupTime.TotalMilliseconds:0} ms");
        using var http = new HttpClient();
        Assert.Equal("v0", (await http.GetStringAsync(Fleet.FrontendUrl + "/VERSION")).Trim());
        foreach (var host in Fleet.Hosts)
        {
            Assert.Equal("v0", host.ReadCurrentVersion());
            Assert.Equal("v0", (await http.GetStringAsync(host.AppUrl + "/VERSION")).Trim());
            Assert.True(File.Exists(Path.Combine(host.Root, "bin", "svc.sh")));
            Assert.True(Directory.Exists(host.Incoming));
        }
        Assert.Equal(Fleet.Hosts.Count, Fleet.Hosts.Select(h => h.Fingerprint).Distinct().Count());

        var stats = await Runtime.ShowStatAsync(CancellationToken.None);
        Assert.Equal(["h1", "h2"], stats.Where(s => s.Backend == "app").Select(s => s.Server).Order());
        Assert.All(stats.Where(s => s.Backend == "app"), s => Assert.StartsWith("UP", s.Status));
        Assert.DoesNotContain(stats, s => s.Server is "FRONTEND" or "BACKEND");
    }

    [Fact]
    public async Task Drain_Maint_Ready_ChangeTheStatusInShowStat()
    {
        try
        {
            await Runtime.SetStateAsync("app", "h2", "drain", CancellationToken.None);
            Assert.Equal("DRAIN", await StatusOf("h2"));
            await Runtime.SetStateAsync("app", "h2", "maint", CancellationToken.None);
            Assert.Equal("MAINT", await StatusOf("h2"));
            await Runtime.SetStateAsync("app", "h2", "ready", CancellationToken.None);
            await WaitForStatus("h2", s => s.StartsWith("UP"), "UP");
            Assert.Equal("UP", await StatusOf("h1"));
        }
        finally
        {
            await Runtime.SetStateAsync("app", "h2", "ready", CancellationToken.None);
        }
    }

    [Fact]
    public async Task ARollingRestartBehindDrain_LosesNoRequest()
    {
        await using var ssh = await SshTargetConnection.ConnectAsync(
            new SshEndpoint("127.0.0.1", Fleet.Hosts[0].SshPort, Fleet.User, Fleet.Hosts[0].Fingerprint),
            new SshCredentials(Fleet.ClientPrivateKey, null), TimeSpan.FromSeconds(10), CancellationToken.None);
        await using var load = LoadClient.Start(Fleet.FrontendUrl, concurrency: 4);
        await Task.Delay(300);
        var watch = Stopwatch.StartNew();
        await Runtime.SetStateAsync("app", "h1", "maint", CancellationToken.None);
        await WaitForStatus("h1", s => s == "MAINT", "MAINT");
        var exit = await ssh.RunAsync("\"$HOST_ROOT/bin/svc.sh\" restart", new Dictionary<string, string>(), _ => Task.CompletedTask,
            TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.Equal(0, exit);
        await Runtime.SetStateAsync("app", "h1", "ready", CancellationToken.None);
        await WaitForStatus("h1", s => s.StartsWith("UP"), "UP");
        output.WriteLine($"maint + restart + ready of h1: {watch.ElapsedMilliseconds} ms");
        await Task.Delay(300);
        var summary = await load.StopAsync();
        output.WriteLine(summary.ToString());

        Assert.True(summary.Requests > 20, summary.ToString());
        Assert.Equal(0, summary.Failures);
        Assert.Equal(["v0"], summary.VersionSequence);
    }

    [Fact]
    public async Task AnUnknownServer_IsAnErrorFromHaproxy()
    {
        var ex = await Assert.ThrowsAsync<HaproxyRuntimeException>(() => Runtime.SetStateAsync("app", "h99", "drain", CancellationToken.None));
        Assert.Contains("No such server", ex.Message);
        Assert.Contains(Fleet.RuntimeSocket, ex.Message);
    }

    [Theory]
    [InlineData("app", "h1;disable frontend fe_app", "drain")]
    [InlineData("app\nshow info", "h1", "drain")]
    [InlineData("app", "h1 x", "drain")]
    [InlineData("app", "", "drain")]
    [InlineData("app", "h1", "disable")]
    public async Task UnsafeNamesOrUnknownStates_AreRefusedBeforeAnythingIsSent(string backend, string server, string state)
    {
        // The address does not exist: reaching the network would be a HaproxyRuntimeException, not an ArgumentException.
        var runtime = new HaproxyRuntime(Path.Combine(Fleet.Root, "nowhere.sock"));
        await Assert.ThrowsAsync<ArgumentException>(() => runtime.SetStateAsync(backend, server, state, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => runtime.SendAsync("show stat; show info", CancellationToken.None));
    }

    [Fact]
    public async Task ManyExchangesAtOnce_AllGetAnswers_AsInABigBatch()
    {
        // A 50-host rollout drains 13 servers at once; HAProxy's stats socket takes ~10 connections at a time and turns
        // the rest away with EAGAIN. Every exchange must still get through (bench/lastmile failed at N=50 without this).
        var calls = Enumerable.Range(0, 60).Select(_ => Runtime.ShowStatAsync(CancellationToken.None)).ToList();
        var answers = await Task.WhenAll(calls);
        Assert.All(answers, a => Assert.NotEmpty(a));
    }

    [Fact]
    public async Task ASocketPathThatDoesNotExist_IsAClearError()
    {
        var path = Path.Combine(Fleet.Root, "no-such.sock");
        var ex = await Assert.ThrowsAsync<HaproxyRuntimeException>(() => new HaproxyRuntime(path).ShowStatAsync(CancellationToken.None));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public async Task ARefusedTcpPort_IsAClearError()
    {
        var address = $"127.0.0.1:{FreePort.Get()}";
        var ex = await Assert.ThrowsAsync<HaproxyRuntimeException>(() => new HaproxyRuntime(address).ShowStatAsync(CancellationToken.None));
        Assert.Contains(address, ex.Message);
        Assert.Contains("ConnectionRefused", ex.Message);
    }

    [Fact]
    public async Task AListenerAnsweringGarbage_IsAHaproxyRuntimeException()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[256];
            _ = await stream.ReadAsync(buffer);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n<html>nope</html>\n"));
        });
        var ex = await Assert.ThrowsAsync<HaproxyRuntimeException>(() => new HaproxyRuntime(address).ShowStatAsync(CancellationToken.None));
        await server;
        Assert.Contains(address, ex.Message);
        Assert.Contains("not understood", ex.Message);
    }

    [Fact]
    public async Task AListenerThatNeverAnswers_TimesOut()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<HaproxyRuntimeException>(() =>
            new HaproxyRuntime(address, TimeSpan.FromMilliseconds(500)).ShowStatAsync(CancellationToken.None));
        Assert.Contains(address, ex.Message);
        Assert.Contains("within", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void TheReleaseTarball_HoldsItsVersion_AndHasTheRequestedSize()
    {
        using var dir = new TempDirectory("slw-tarball");
        var path = SimulatedFleet.BuildReleaseTarball("v7", dir.Path, 1_000_000);
        Assert.Equal("app-v7.tar.gz", Path.GetFileName(path));
        Assert.InRange(new FileInfo(path).Length, 1_000_000, 1_100_000);
        var version = ProcessRunner.Run("/usr/bin/tar", ["-xOzf", path, "./VERSION"]);
        Assert.Equal("v7\n", version.StdOut);
    }
}
