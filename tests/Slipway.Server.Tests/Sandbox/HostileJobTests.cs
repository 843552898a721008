using System.Diagnostics;
using System.Net;
using Slipway.Client;
using Slipway.Server.Tests.Faults;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Sandbox;

/// <summary>
/// Issue 11, finding 1: a developer's branch job runs <see cref="HostileJob"/> on the embedded agent (the default
/// set-up: server and agent on one machine) and every read and write of the server's data, key ring, database,
/// hosted repositories, other jobs and the server process fails. Writes are also checked from outside, on the real
/// disk. Once with the server as root (jobs drop to an unprivileged account inside the sandbox) and once with the
/// server as an ordinary user (what the README's first command gives a developer on their laptop).
/// </summary>
public sealed class HostileJobTests
{
    private const string VictimSecret = "victim-secret-4f1c2a";

    /// <summary>A hostile job on the feature branch, and beside it (same stage, other slot) a victim job holding a secret.</summary>
    private static string HostilePipeline(string data, string work, int serverPid, string repo, string outside) => $"""
        stages:
          - name: s
            jobs:
              - name: victim
                env:
                  VICTIM: "{VictimSecret}"
                run: sleep 8
              - name: hostile
                env:
        {Pipelines.Indent(HostileJob.Env(data, work, serverPid, repo, outside).TrimEnd(), 8)}
                run: |
                  sleep 2
                  ./hostile.sh
        """;

    [Fact]
    public async Task HostileBranchJob_OnTheEmbeddedAgent_OfAServerRunningAsRoot_ReachesNothing()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        await AttackAsync(server.Url, server.Client, server.Options.FullDataDirectory, server.Options.EmbeddedAgentWorkDirectory, Environment.ProcessId);
    }

    [Fact]
    public async Task HostileBranchJob_OnASeparateAgent_OnTheServersMachine_ReachesNothing()
    {
        // An agent on the server's own machine (docs/operations.md advises against it) told to hide the server's data.
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var work = new TempDirectory("slipway-hostile-agent");
        var token = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        var data = server.Options.FullDataDirectory;
        var agent = SlipwayProcess.Start(["agent", "--server", server.Url, "--token", token.Token, "--work", work.Path, "--name", "iso",
            "--slots", "2", "--sandbox-hide", data]);
        try
        {
            await CrashTests.EventuallyAsync(async () => (await server.Client.ListAgentsAsync()).FirstOrDefault(a => a.Name == "iso"),
                TimeSpan.FromSeconds(60), "the agent to register");
            await AttackAsync(server.Url, server.Client, data, work.Path, Environment.ProcessId);
            Assert.True(File.Exists(Path.Combine(work.Path, "credential.json"))); // it was there to steal
        }
        finally
        {
            CrashTests.Kill(agent);
            CrashTests.KillJobsUnder(work.Path);
        }
    }

    /// <summary>A blob store in a directory of its own (--blobs /dir: every project's artifacts and logs) is hidden like the data folder.</summary>
    [Fact]
    public async Task ABlobDirectoryOfItsOwn_IsHiddenFromJobs()
    {
        // Not under /tmp or /var/tmp, of which every job gets a fresh one anyway: somewhere a job would see if it were not hidden.
        var blobs = Path.Combine("/var/lib", "slipway-test-blobs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(blobs);
        try
        {
            File.WriteAllText(Path.Combine(blobs, "other-project-artifact.txt"), "other project's secret bytes");
            await using var server = await SlipwayTestServer.StartAsync(o => o.Blobs = blobs);
            using var repo = Pipelines.Repo(Pipelines.OneJob(
                $"ls -A '{blobs}' > listing.txt; echo \"entries: $(wc -l < listing.txt)\"; cat '{blobs}/other-project-artifact.txt' || echo unreadable"));
            var run = await server.CreateProjectAndWaitAsync("p", repo.Path);
            var log = await server.LogAsync(run.Id, "j");

            Assert.True(run.Status == "succeeded", $"{run.Status} {run.FailureReason}: {log}");
            Assert.Contains("entries: 0", log);
            Assert.Contains("unreadable", log);
            Assert.DoesNotContain("secret bytes", log);
            Assert.True(File.Exists(Path.Combine(blobs, "other-project-artifact.txt"))); // it was there to read
        }
        finally { Directory.Delete(blobs, recursive: true); }
    }

    [Fact]
    public async Task WithoutTheSandbox_TheSameJobTakesTheServer_SoTheProbesAreReal()
    {
        // The control: what finding 1 was. Proves the script's tries detect a leak when there is one.
        await using var server = await SlipwayTestServer.StartAsync(o => o.AgentSandbox = Slipway.Agent.Sandbox.SandboxMode.None);
        var (log, _) = await AttackCoreAsync(server.Url, server.Client, server.Options.FullDataDirectory,
            server.Options.EmbeddedAgentWorkDirectory, Environment.ProcessId);
        foreach (var leak in new[] { "read the admin token file", "read the database", "read the key ring", "move a hosted repository's branch",
                     "write into the data folder", "read the agent credential", "signal the server", "write outside the workspace" })
            Assert.Contains("LEAK: " + leak, log);
        Assert.True(File.Exists(Path.Combine(server.Options.FullDataDirectory, "pwned")));
    }

    [Fact]
    public async Task HostileBranchJob_OnTheEmbeddedAgent_OfAServerRunningAsAnOrdinaryUser_ReachesNothing()
    {
        // The server runs as 'nobody' (when the tests run as root) from its own copy of the build, which that user can
        // read wherever the checkout lives; the data folder belongs to it, as it would to a developer.
        using var root = new TempDirectory("slipway-hostile");
        var data = Path.Combine(root.Path, "data");
        var home = Path.Combine(root.Path, "home");
        var bin = Path.Combine(root.Path, "bin");
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(home);
        CopyTree(Path.GetDirectoryName(RepositoryLayout.SlipwayDll)!, bin);
        var asRoot = Environment.UserName == "root";
        if (asRoot) ProcessRunner.Run("/bin/chown", ["-R", "65534:65534", data, home], null, null, TimeSpan.FromSeconds(30));
        new DirectoryInfo(root.Path).UnixFileMode |= UnixFileMode.OtherExecute | UnixFileMode.OtherRead;

        var url = $"http://127.0.0.1:{FreePort.Get()}";
        var dll = Path.Combine(bin, "slipway.dll");
        string[] serverArgs = ["server", "--data", data, "--urls", url, "--agent-slots", "2"];
        var psi = new ProcessStartInfo(asRoot ? "/usr/bin/setpriv" : "dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (asRoot) foreach (var a in new[] { "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps=-all", "--", Dotnet() }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(dll);
        foreach (var a in serverArgs) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = home;
        psi.Environment["DOTNET_CLI_HOME"] = home;
        psi.Environment["SLIPWAY_BOOTSTRAP_TOKEN"] = SlipwayTestServer.AdminToken;
        psi.Environment["SLIPWAY_POLL_SECONDS"] = "3600";
        var output = new System.Text.StringBuilder();
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new SlipwayClient(url, SlipwayTestServer.AdminToken);
            try { await CrashTests.EventuallyAsync(async () => await client.ListProjectsAsync(), TimeSpan.FromSeconds(60), "the server to start"); }
            catch (Exception) { lock (output) throw new Xunit.Sdk.XunitException("server did not start:\n" + output); }
            // The real server process is setpriv's child once setpriv has exec'd: same PID.
            await AttackAsync(url, client, data, Path.Combine(data, "agent"), process.Id);
        }
        finally
        {
            CrashTests.Kill(process);
            CrashTests.KillJobsUnder(data);
        }
    }

    /// <summary>
    /// Creates the hosted project 'shop', pushes main and the hostile branch to it over HTTP, runs the branch, and checks
    /// the job's own report and the real disk.
    /// </summary>
    private static async Task AttackAsync(string url, SlipwayClient client, string data, string work, int serverPid)
    {
        var (log, run) = await AttackCoreAsync(url, client, data, work, serverPid);
        HostileJob.AssertAllBlocked(log);
        Assert.Equal("succeeded", run.Run.Status); // the script ran to its end: every try was made and failed
        Assert.DoesNotContain(SlipwayTestServer.AdminToken, log);
        Assert.DoesNotContain(VictimSecret, log);
        // From outside, on the real disk: nothing was written, the protected branch did not move.
        Assert.False(File.Exists(Path.Combine(data, "pwned")));
        Assert.False(run.RepoWritten);
        Assert.False(run.OutsideWritten);
        var hostedMain = ProcessRunner.Run(GitRepository.GitPath, ["--git-dir", Path.Combine(data, "hosted", "shop.git"), "rev-parse", "refs/heads/main"],
            null, null, TimeSpan.FromSeconds(30));
        Assert.Equal(run.MainCommit, hostedMain.StdOut.Trim());
        Assert.True(File.Exists(Path.Combine(data, "slipway.db")));
    }

    private sealed record Attack(Contracts.Api.RunDto Run, string MainCommit, bool RepoWritten, bool OutsideWritten);

    private static async Task<(string Log, Attack Run)> AttackCoreAsync(string url, SlipwayClient client, string data, string work, int serverPid)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", SlipwayTestServer.AdminToken);
        await Expect(await http.PostAsync("/api/v1/projects", Body(new { name = "shop", hosted = true })), HttpStatusCode.Created);

        // A folder of the machine outside /tmp that anyone may write (0777): only the sandbox's read-only view stops the job.
        var outside = Path.Combine(AppContext.BaseDirectory, "hostile-outside-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(outside);
        File.SetUnixFileMode(outside, (UnixFileMode)0x1FF);
        // The one-time token file as it is before the admin's first sign-in (the calls above already deleted it).
        await File.WriteAllTextAsync(Path.Combine(data, "initial-admin-token"), SlipwayTestServer.AdminToken + "\n");
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo built"));
        var mainCommit = repo.Head();
        repo.Run("checkout", "-q", "-b", "feature/evil");
        repo.WriteFile("hostile.sh", HostileJob.Script.Replace("\r\n", "\n"), executable: true);
        repo.WriteFile(".slipway.yml", HostilePipeline(data, work, serverPid, repo.Path, outside));
        repo.Commit("a harmless-looking change");
        var remote = $"http://x:{SlipwayTestServer.AdminToken}@{new Uri(url).Authority}/git/shop.git";
        repo.Run("-c", "credential.helper=", "push", "-q", remote, "main", "feature/evil");

        var runs = await CrashTests.EventuallyAsync(async () =>
            (await client.ListRunsAsync("shop")).FirstOrDefault(r => r.Branch == "feature/evil"), TimeSpan.FromSeconds(30), "the branch's run");
        var run = await WaitAsync(client, runs.Id);
        var log = await client.WholeLogAsync(run.Id, "hostile");
        var outsideWritten = File.Exists(Path.Combine(outside, "pwned"));
        Directory.Delete(outside, recursive: true);
        return (log, new Attack(run, mainCommit, File.Exists(Path.Combine(repo.Path, "pwned")), outsideWritten));
    }

    private static async Task<Contracts.Api.RunDto> WaitAsync(SlipwayClient client, long id) =>
        await CrashTests.EventuallyAsync(async () => await client.GetRunAsync(id) is { Status: "succeeded" or "failed" or "cancelled" } r ? r : null,
            TimeSpan.FromSeconds(90), $"run {id} to end");

    private static string Dotnet() =>
        new[] { Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"), Environment.ProcessPath }
            .FirstOrDefault(p => p is not null && Path.GetFileNameWithoutExtension(p) == "dotnet" && File.Exists(p))
        ?? "/usr/bin/dotnet";

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
