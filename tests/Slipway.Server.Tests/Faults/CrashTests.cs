using System.Diagnostics;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.Faults;

/// <summary>Agents and servers killed with SIGKILL: no job or run is left running, nothing is lost.</summary>
public sealed class CrashTests
{
    /// <summary>
    /// A SIGKILLed agent cannot stop its jobs: kill the process groups (sessions) of job scripts that ran
    /// under <paramref name="folder"/>, so the test leaves nothing behind.
    /// </summary>
    internal static void KillJobsUnder(string folder)
    {
        foreach (var pid in JobScriptsUnder(folder))
            Process.Start("kill", ["-KILL", "--", $"-{pid}"])!.WaitForExit();
    }

    /// <summary>The live (not zombie) job script processes whose command line is under <paramref name="folder"/>.</summary>
    internal static IReadOnlyList<int> JobScriptsUnder(string folder)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName))
        {
            if (!int.TryParse(dir, out var pid)) continue;
            try
            {
                var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                if (commandLine.Contains(folder) && commandLine.Contains("step.sh") && stat[(stat.LastIndexOf(')') + 2)] != 'Z') found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    internal static void Kill(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        process.WaitForExit(10_000);
    }

    internal static Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what) where T : class =>
        Eventually.ValueAsync(probe, timeout, what);

    [Fact]
    public async Task AgentKilledMidJob_LosesTheLease_AndTheJobFailsAsAgentLost()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => { o.EmbeddedAgent = false; o.LeaseTimeout = TimeSpan.FromSeconds(3); });
        using var work = new TempDirectory();
        var token = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo started; sleep 120"));
        var id = await server.CreateProjectAsync("p", repo.Path);

        var agent = SlipwayProcess.Start(["agent", "--server", server.Url, "--token", token.Token, "--work", work.Path, "--name", "doomed", "--slots", "1"]);
        try
        {
            await EventuallyAsync(async () => (await server.Client.GetRunAsync(id)).Stages[0].Jobs[0] is { Status: "running" } j ? j : null,
                TimeSpan.FromSeconds(60), "the job to run on the external agent");
            await EventuallyAsync(async () => (await server.LogAsync(id, "j")).Contains("started") ? "" : null, TimeSpan.FromSeconds(20), "the job's output");
            Process.Start("kill", ["-KILL", agent.Id.ToString()])!.WaitForExit();
            var killedAt = DateTime.UtcNow;

            var run = await server.WaitForRunAsync(id, TimeSpan.FromSeconds(20));

            Assert.Equal("failed", run.Status);
            Assert.Contains("agent lost", run.Stages[0].Jobs[0].FailureReason);
            Assert.Equal("agent_lost", run.Stages[0].Jobs[0].FailureKind); // typed: the deployment conductor reads this, not the wording
            Assert.True(DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(10), "the lease timeout was not honoured");
        }
        finally
        {
            Kill(agent);
            KillJobsUnder(work.Path);
        }
    }

    [Fact]
    public async Task ServerKilledMidRun_AndRestarted_LeavesNoRunRunning_AndLosesNoRecord()
    {
        using var data = new TempDirectory();
        var port = FreePort.Get();
        var url = $"http://127.0.0.1:{port}";
        var env = new Dictionary<string, string> { ["SLIPWAY_BOOTSTRAP_TOKEN"] = SlipwayTestServer.AdminToken, ["SLIPWAY_POLL_SECONDS"] = "3600" };
        string[] args = ["server", "--data", data.Path, "--urls", url, "--agent-slots", "2"];
        using var repo = Pipelines.Repo("""
            stages:
              - name: s
                jobs:
                  - { name: quick, run: "echo quick" }
                  - { name: long, run: "echo long-started; sleep 120" }
            """);
        using var client = new SlipwayClient(url, SlipwayTestServer.AdminToken);

        var server = SlipwayProcess.Start(args, env);
        RunDto before;
        try
        {
            await EventuallyAsync(async () => await client.ListProjectsAsync(), TimeSpan.FromSeconds(60), "the server to start");
            await client.CreateProjectAsync("p", repo.Path, "main");
            var id = (await client.ListRunsAsync("p")).Single().Id;
            before = await EventuallyAsync(async () =>
            {
                var run = await client.GetRunAsync(id);
                var jobs = run.Stages[0].Jobs;
                return jobs.Single(j => j.Name == "quick").Status == "succeeded" && jobs.Single(j => j.Name == "long").Status == "running" ? run : null;
            }, TimeSpan.FromSeconds(60), "one job done and one running");
            Process.Start("kill", ["-KILL", server.Id.ToString()])!.WaitForExit();
            server.WaitForExit(10_000);
        }
        finally { Kill(server); }

        var restarted = SlipwayProcess.Start(args, env);
        try
        {
            var after = await EventuallyAsync(async () =>
            {
                var run = await client.GetRunAsync(before.Id);
                return run.Status is "failed" ? run : null;
            }, TimeSpan.FromSeconds(60), "the interrupted run to be resolved");

            var jobs = after.Stages[0].Jobs;
            Assert.Equal("succeeded", jobs.Single(j => j.Name == "quick").Status);
            var longJob = jobs.Single(j => j.Name == "long");
            Assert.Equal("failed", longJob.Status);
            Assert.Contains("server restarted", longJob.FailureReason);
            Assert.Equal(before.CreatedAt, after.CreatedAt);
            Assert.Contains("quick", await LogOf(client, after.Id, "quick"));
            Assert.Contains("long-started", await LogOf(client, after.Id, "long"));

            // The restarted server keeps working: a new run goes green on its embedded agent.
            var next = (await client.StartRunAsync("p", "main", null)).Id;
            var quickAgain = await EventuallyAsync(async () =>
                (await client.GetRunAsync(next)).Stages[0].Jobs.Single(j => j.Name == "quick") is { Status: "succeeded" } j ? j : null,
                TimeSpan.FromSeconds(60), "a job to run after restart");
            Assert.Equal("embedded", quickAgain.Agent);
        }
        finally
        {
            Kill(restarted);
            KillJobsUnder(data.Path);
        }
    }

    private static async Task<string> LogOf(SlipwayClient client, long run, string job) => (await client.GetLogAsync(run, job, 0)).Text;
}
