using Slipway.Testing;

namespace Slipway.Server.Tests.Storage;

/// <summary>The whole server on PostgreSQL (<c>--database</c>), not only its stores.</summary>
[Collection("postgres")]
public sealed class PostgresServerTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Server_OnPostgreSql_RunsAPipelineEndToEnd_AndKeepsItAcrossRestart()
    {
        var connection = await postgres.CreateDatabaseAsync();
        using var data = new TempDirectory();
        using var repo = Pipelines.Repo("""
            stages:
              - name: a
                jobs:
                  - { name: one, run: "mkdir -p out && echo 1 > out/x.txt", artifacts: [out/*] }
                  - { name: two, run: "echo two" }
                  - { name: three, run: "echo three" }
              - name: b
                jobs:
                  - { name: after, run: "cat out/x.txt" }
            """);
        long runId;
        await using (var server = await SlipwayTestServer.StartAsync(o => o.Database = connection, data.Path))
        {
            var run = await server.CreateProjectAndWaitAsync("pg", repo.Path);
            Assert.Equal("succeeded", run.Status);
            Assert.Equal("1\n", await server.LogAsync(run.Id, "after"));
            runId = run.Id;
        }

        await using var again = await SlipwayTestServer.StartAsync(o => o.Database = connection, data.Path);
        Assert.Equal("succeeded", (await again.Client.GetRunAsync(runId)).Status);
        var second = (await again.Client.StartRunAsync("pg", "main", null)).Id;
        Assert.Equal("succeeded", (await again.WaitForRunAsync(second)).Status);
        Assert.False(File.Exists(Path.Combine(data.Path, "slipway.db")), "a PostgreSQL server must not create a SQLite file");
    }
}
