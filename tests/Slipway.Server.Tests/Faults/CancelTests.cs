using System.Diagnostics;
using Slipway.Testing;

namespace Slipway.Server.Tests.Faults;

public sealed class CancelTests
{
    [Fact]
    public async Task Cancel_KillsTheJobsWholeProcessTree_WithinFiveSeconds()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var scratch = new TempDirectory();
        var pids = Path.Combine(scratch.Path, "pids");
        using var repo = Pipelines.Repo(Pipelines.OneJob($"""
            sleep 300 &
            echo $! >> "{pids}"
            (sleep 301; echo never) &
            echo $! >> "{pids}"
            echo $$ >> "{pids}"
            echo ready
            wait
            """));
        var id = await server.CreateProjectAsync("p", repo.Path);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await server.LogAsync(id, "j")).Contains("ready") && DateTime.UtcNow < deadline) await Task.Delay(100);
        var processIds = File.ReadAllLines(pids).Select(int.Parse).ToList();
        Assert.All(processIds, pid => Assert.True(IsAlive(pid)));

        var started = Stopwatch.StartNew();
        await server.Client.CancelRunAsync(id);
        var run = await server.WaitForRunAsync(id, TimeSpan.FromSeconds(10));

        Assert.Equal("cancelled", run.Status);
        Assert.Equal("cancelled", run.Stages[0].Jobs[0].Status);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"cancel took {started.Elapsed}");
        Assert.All(processIds, pid => Assert.False(IsAlive(pid), $"process {pid} survived the cancel"));
    }

    [Fact]
    public async Task StoppingTheServer_StopsTheJobsOfItsEmbeddedAgent()
    {
        using var scratch = new TempDirectory();
        var pids = Path.Combine(scratch.Path, "pids");
        var server = await SlipwayTestServer.StartAsync();
        List<int> processIds;
        try
        {
            using var repo = Pipelines.Repo(Pipelines.OneJob($"sleep 300 &\necho $! >> \"{pids}\"\necho $$ >> \"{pids}\"\nwait"));
            await server.Client.CreateProjectAsync("p", repo.Path, "main");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((!File.Exists(pids) || File.ReadAllLines(pids).Length < 2) && DateTime.UtcNow < deadline) await Task.Delay(100);
            processIds = File.ReadAllLines(pids).Select(int.Parse).ToList();
            Assert.All(processIds, pid => Assert.True(IsAlive(pid)));
        }
        finally { await server.DisposeAsync(); }

        await Task.Delay(500);
        Assert.All(processIds, pid => Assert.False(IsAlive(pid), $"process {pid} outlived the server"));
    }

    [Fact]
    public async Task Cancel_OfFinishedRun_IsRefusedWithConflict()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        var error = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() => server.Client.CancelRunAsync(run.Id));

        Assert.Equal(System.Net.HttpStatusCode.Conflict, error.Status);
        Assert.Contains("already succeeded", error.Message);
    }

    [Fact]
    public async Task Cancel_OfQueuedRun_CancelsItsJobsAtOnce()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        var id = await server.CreateProjectAsync("p", repo.Path);

        var run = await server.Client.CancelRunAsync(id);

        Assert.Equal("cancelled", run.Status);
        Assert.Equal("cancelled", run.Stages[0].Jobs[0].Status);
    }

    private static bool IsAlive(int pid)
    {
        // A zombie (state Z) is dead for our purpose: it runs nothing.
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return false;
        try { return File.ReadAllText(stat).Split(')').Last().TrimStart().FirstOrDefault() != 'Z'; }
        catch (IOException) { return false; }
    }
}
