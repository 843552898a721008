using System.Diagnostics;
using Slipway.Testing;

namespace Slipway.Server.Tests.Faults;

public sealed class CancelTests
{
    [Fact]
    public async Task Cancel_KillsTheJobsWholeProcessTree_WithinFiveSeconds()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        // The job's own PIDs are of its sandbox's PID namespace: its processes are found on the host by a unique
        // argument (sleep takes fractions of a second) and by the script's path under the data folder.
        var marker = UniqueMarker();
        using var repo = Pipelines.Repo(Pipelines.OneJob($"""
            sleep 300.{marker} &
            (sleep 301.{marker}; echo never) &
            echo ready
            wait
            """));
        var id = await server.CreateProjectAsync("p", repo.Path);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await server.LogAsync(id, "j")).Contains("ready") && DateTime.UtcNow < deadline) await Task.Delay(100);
        var processIds = JobProcesses(server, marker);
        Assert.True(processIds.Count >= 3, $"expected the script and its two sleeps, found {processIds.Count}");

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
        var marker = UniqueMarker();
        var server = await SlipwayTestServer.StartAsync();
        List<int> processIds;
        try
        {
            using var repo = Pipelines.Repo(Pipelines.OneJob($"sleep 300.{marker} &\necho ready\nwait"));
            var id = await server.CreateProjectAsync("p", repo.Path);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!(await server.LogAsync(id, "j")).Contains("ready") && DateTime.UtcNow < deadline) await Task.Delay(100);
            processIds = JobProcesses(server, marker);
            Assert.True(processIds.Count >= 2, $"expected the script and its sleep, found {processIds.Count}");
        }
        finally { await server.DisposeAsync(); }

        await Task.Delay(500);
        Assert.All(processIds, pid => Assert.False(IsAlive(pid), $"process {pid} outlived the server"));
    }

    /// <summary>A number unique to the test, to tell its job's processes from any other on the machine.</summary>
    private static string UniqueMarker() => Random.Shared.NextInt64(100_000_000, 999_999_999).ToString();

    /// <summary>Host PIDs of the job's script (by its path under the data folder) and of its sleeps (by the marker).</summary>
    private static List<int> JobProcesses(SlipwayTestServer server, string marker)
    {
        var found = CrashTests.JobScriptsUnder(server.Options.FullDataDirectory).ToList();
        foreach (var dir in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName))
        {
            if (!int.TryParse(dir, out var pid)) continue;
            try { if (File.ReadAllText($"/proc/{pid}/cmdline").Contains("." + marker) && IsAlive(pid)) found.Add(pid); }
            catch (IOException) { }
        }
        return found;
    }

    [Fact]
    public async Task Cancel_OfFinishedRun_IsRefusedWithConflict()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        var error = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() => server.Client.CancelRunAsync(run.Id));

        Assert.Equal(System.Net.HttpStatusCode.Conflict, error.Status);
        Assert.Contains("has already finished (succeeded)", error.Message);
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
