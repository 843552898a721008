using System.Net;
using System.Net.Http.Headers;
using Slipway.Testing;

namespace Slipway.Server.Tests.EndToEnd;

public sealed class DemoAndOperationsTests
{
    [Fact]
    public async Task DemoProject_IsCreatedOnStart_AndItsFirstRunGoesGreen()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.Demo = true);

        var runs = await server.Client.ListRunsAsync("demo");
        var run = await server.WaitForRunAsync(Assert.Single(runs).Id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(["commit", "acceptance"], run.Stages.Select(s => s.Name));
        var build = run.Stages[0].Jobs.Single(j => j.Name == "build");
        Assert.Equal(4, build.TestSummary!.Passed);
        Assert.Contains(run.Artifacts, a => a.Path == "out/calc");
        Assert.Contains("acceptance passed", await server.LogAsync(run.Id, "integration"));

        // The green run became release 0.1.1, which reached staging by itself; production waits for an analyst.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Contracts.Api.DeploymentDto? staging = null;
        while (DateTime.UtcNow < deadline && (staging = (await server.Client.ListDeploymentsAsync("demo", "staging")).FirstOrDefault()) is not { State: "succeeded" })
            await Task.Delay(200);
        Assert.Equal(("0.1.1", "succeeded"), (staging!.Release, staging.State));
        Assert.Contains("deploying 0.1.1 to staging (previous none)", await server.LogAsync(staging.RunId!.Value, "deploy"));
        Assert.Equal(["staging", "production"], (await server.Client.ListEnvironmentsAsync("demo")).Select(e => e.Name));
    }

    [Fact]
    public async Task Metrics_ExposeQueueAgentsDurationsAndLogBytes()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo some output"));
        await server.Client.CreateProjectAsync("p", repo.Path, "main");
        await server.WaitForRunAsync((await server.Client.ListRunsAsync("p")).Single().Id);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SlipwayTestServer.AdminToken);

        var text = await http.GetStringAsync("/metrics");

        Assert.Contains("slipway_jobs{state=\"queued\"} 0", text);
        Assert.Contains("slipway_jobs{state=\"running\"} 0", text);
        Assert.Contains("slipway_agents{pool=\"build\",state=\"approved\"} 1", text);
        Assert.Contains("slipway_job_duration_seconds_count{outcome=\"succeeded\"} 1", text);
        Assert.Matches(@"slipway_log_bytes_total [1-9]", text);
    }

    [Fact]
    public async Task Server_RestartedOnSameData_KeepsEveryRecord()
    {
        using var data = new TempDirectory();
        long runId;
        string commit;
        await using (var first = await SlipwayTestServer.StartAsync(dataDirectory: data.Path))
        {
            using var repo = Pipelines.Repo(Pipelines.OneJob("echo persisted-line"));
            await first.Client.CreateProjectAsync("p", repo.Path, "main");
            var run = await first.WaitForRunAsync((await first.Client.ListRunsAsync("p")).Single().Id);
            (runId, commit) = (run.Id, run.Commit);
        }

        await using var second = await SlipwayTestServer.StartAsync(dataDirectory: data.Path);
        var again = await second.Client.GetRunAsync(runId);

        Assert.Equal("succeeded", again.Status);
        Assert.Equal(commit, again.Commit);
        Assert.Contains("persisted-line", await second.LogAsync(runId, "j"));
        Assert.Single(await second.Client.ListProjectsAsync());
        Assert.Single(await second.Client.ListAgentsAsync(), a => a.Name == "embedded");
    }

    [Fact]
    public async Task InitialAdminToken_IsWrittenOwnerOnly_AndDeletedOnceTheAdminSignsInWithIt()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var path = Path.Combine(server.Options.FullDataDirectory, "initial-admin-token");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(SlipwayTestServer.AdminToken, (await File.ReadAllTextAsync(path)).Trim());
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        // A refused token leaves it alone.
        http.DefaultRequestHeaders.Authorization = new("Bearer", "slp_not-the-admin-token-000000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/projects")).StatusCode);
        Assert.True(File.Exists(path));

        // The first call with the token in it deletes it: the token stays on the server's disk only until taken.
        Assert.Empty(await server.Client.ListProjectsAsync());
        Assert.False(File.Exists(path));
        Assert.Empty(await server.Client.ListProjectsAsync()); // the token itself still works
        var audit = await Access.AccessTestKit.AuditAsync(server, "action=user.manage");
        Assert.Contains(audit, e => e.Detail == "initial admin token file deleted after its first use" && e.Target == "user:admin");
    }
}
