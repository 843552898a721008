using Slipway.Server.Tests.Hosted;
using Slipway.Testing;

namespace Slipway.Server.Tests.Cluster;

/// <summary>
/// Two server nodes on one PostgreSQL (issue 15): what one node writes, the other serves. A job queued through node A
/// reaches an agent long-polling node B; a secret stored through A is decrypted by B (one key ring, in the database); the
/// live log of a job whose agent reports to B is followed through A; a signal raised on A wakes waiters on B (LISTEN/NOTIFY).
/// </summary>
[Collection("postgres")]
public sealed class SharedStateTests(PostgresFixture postgres)
{
    [Fact]
    public async Task TwoNodes_OneDatabase_ShareJobsSecretsAndLiveLogs()
    {
        var database = await postgres.CreateDatabaseAsync();
        var storage = database; // the nodes' shared folders, whichever way the database is written
        await using var a = await SlipwayTestServer.StartAsync(o => { o.Database = database; Nodes.NodeKit.ShareStorage(o, storage); o.NodeName = "a"; o.EmbeddedAgent = false; });
        // Node B is given the same database as a postgres:// URL.
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(database);
        database = $"postgres://{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}?Maximum%20Pool%20Size=20";
        var bLogs = new CapturedLogs();
        await using var b = await SlipwayTestServer.StartAsync(o => { o.Database = database; Nodes.NodeKit.ShareStorage(o, storage); o.NodeName = "b"; o.EmbeddedAgent = false; o.AgentPollWait = TimeSpan.FromSeconds(60); }, logs: bLogs);
        using var work = new TempDirectory();
        var token = await a.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var agent = SlipwayProcess.Start(["agent", "--server", b.Client.Http.BaseAddress!.ToString().TrimEnd('/'), "--token", token.Token,
            "--work", work.Path, "--name", "only-agent", "--slots", "1", "--pool", "build"]);
        try
        {
            using var repo = Pipelines.Repo("""
                stages:
                  - name: a
                    jobs:
                      - name: talk
                        secrets: [API_TOKEN]
                        run: |
                          echo "first line"
                          test "$API_TOKEN" = "s3cret-across-nodes" && echo "secret decrypted"
                          sleep 4
                          echo "last line"
                """);
            await a.Client.CreateProjectAsync("shop", repo.Path, "main");
            await a.Client.SetVariableAsync("shop", "API_TOKEN", "s3cret-across-nodes", secret: true);
            // The agent polls B for a minute before B answers "no work": give it time to connect and start waiting.
            await Eventually.ValueAsync(async () => (await a.Client.ListAgentsAsync()).FirstOrDefault(x => x.Name == "only-agent" && x.LastSeenAt is not null) is { } x ? x : null,
                TimeSpan.FromSeconds(30), "the agent online");
            await Task.Delay(500);

            var run = await a.Client.StartRunAsync("shop", "main", null);
            var lines = new List<(string Text, string Status)>();
            await foreach (var page in a.Client.FollowLogAsync(run.Id, "talk", 0))
            {
                if (page.Text.Length == 0) continue;
                lines.Add((page.Text, (await a.Client.GetRunAsync(run.Id)).Status));
            }
            var finished = await a.WaitForRunAsync(run.Id);
            Assert.True(finished.Status == "succeeded", $"run {finished.Status}: {await b.LogAsync(run.Id, "talk")} {string.Join("\n", bLogs.Entries.Select(e => e.Message))}");
            var all = string.Concat(lines.Select(l => l.Text));
            Assert.Contains("first line", all);
            Assert.Contains("secret decrypted", all);
            Assert.Contains("last line", all);
            // Followed live through A: the first line arrived while the job still ran (it sleeps 4 s before its last line).
            Assert.Equal("running", lines.First(l => l.Text.Contains("first line")).Status);
            Assert.Equal(all, await b.LogAsync(run.Id, "talk"));
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task ASignalOnOneNode_WakesWaitersOnTheOther()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await SlipwayTestServer.StartAsync(o => { o.Database = database; Nodes.NodeKit.ShareStorage(o, database); o.NodeName = "a"; o.EmbeddedAgent = false; });
        await using var b = await SlipwayTestServer.StartAsync(o => { o.Database = database; Nodes.NodeKit.ShareStorage(o, database); o.NodeName = "b"; o.EmbeddedAgent = false; });
        var onB = b.Service<WorkSignal>();
        // Only after B listens can it hear: signal until it does (each round waits anew), at most 20 s (else this throws).
        await Eventually.ValueAsync(async () =>
        {
            var wait = onB.WaitAsync(WorkSignal.Pool("far-pool"));
            a.Service<WorkSignal>().Signal(WorkSignal.Pool("far-pool"));
            return await Task.WhenAny(wait, Task.Delay(500)) == wait ? "woken" : null;
        }, TimeSpan.FromSeconds(20), "node B woken by a signal raised on node A");
        // A key nobody raised stays asleep on B: the wake-up is per key, not a broadcast.
        var other = onB.WaitAsync(WorkSignal.Pool("quiet-pool"));
        a.Service<WorkSignal>().Signal(WorkSignal.Pool("far-pool"));
        await Task.Delay(1000);
        Assert.False(other.IsCompleted);
    }

    [Fact]
    public async Task AHostedRepositoryInADirectoryBothNodesShare_TakesPushesThroughEither()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var hosted = new TempDirectory();
        await using var a = await SlipwayTestServer.StartAsync(o => { o.Database = database; Nodes.NodeKit.ShareStorage(o, database); o.HostedDirectory = hosted.Path; o.NodeName = "a"; });
        await using var b = await SlipwayTestServer.StartAsync(o => { o.Database = database; Nodes.NodeKit.ShareStorage(o, database); o.HostedDirectory = hosted.Path; o.NodeName = "b"; o.EmbeddedAgent = false; });
        await a.Client.CreateHostedProjectAsync("shop");
        using var dir = new TempDirectory();
        var clone = await HostedRepositoryTests.CloneAsync(HostedRepositoryTests.Url(b, SlipwayTestServer.AdminToken), dir);
        await HostedRepositoryTests.GitAsync(clone, "checkout", "--quiet", "-b", "main");
        await HostedRepositoryTests.CommitAsync(clone, ".slipway.yml", Pipelines.OneJob("echo built across nodes"), "first");

        // Pushed through B (whose mirror is cloned on demand from the shared directory); built by A's agent.
        var push = await HostedRepositoryTests.GitAsync(clone, "push", "--quiet", "origin", "main");
        Assert.True(push.ExitCode == 0, push.StdErr);
        var run = await a.WaitForRunAsync(Assert.Single(await a.Client.ListRunsAsync("shop")).Id);
        Assert.Equal("succeeded", run.Status);
        Assert.Contains("built across nodes", await a.LogAsync(run.Id, run.Stages[0].Jobs[0].Name));

        // Two pushes at once, one through each node, to two branches: serialised by the repository's lock, both land.
        await HostedRepositoryTests.GitAsync(clone, "remote", "add", "other", HostedRepositoryTests.Url(a, SlipwayTestServer.AdminToken));
        var pushes = await Task.WhenAll(
            HostedRepositoryTests.GitAsync(clone, "push", "--quiet", "origin", "main:refs/heads/feature/one"),
            HostedRepositoryTests.GitAsync(clone, "push", "--quiet", "other", "main:refs/heads/feature/two"));
        Assert.All(pushes, p => Assert.True(p.ExitCode == 0, p.StdErr));
        var heads = await HostedRepositoryTests.GitAsync(null, "--git-dir", Path.Combine(hosted.Path, "shop.git"), "branch", "--format=%(refname:short)");
        Assert.Equal(["feature/one", "feature/two", "main"], heads.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }
}
