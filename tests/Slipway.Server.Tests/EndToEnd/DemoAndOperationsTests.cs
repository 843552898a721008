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
        var run = await server.WaitForRunAsync(runs.Single(r => r.Branch == "main").Id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(["commit", "acceptance"], run.Stages.Select(s => s.Name));
        var build = run.Stages[0].Jobs.Single(j => j.Name == "build");
        Assert.Equal(4, build.TestSummary!.Passed);
        Assert.Contains(run.Artifacts, a => a.Path == "out/calc");
        Assert.Contains("acceptance passed", await server.LogAsync(run.Id, "integration"));

        // The green run became release 0.1.{run}, and staging took the newest release by itself; production waits for an
        // analyst. Which release staging took first depends on timing: the demo story's branch run (pushed at start) may
        // be numbered before main's, and its merge may release again before the conductor's first auto-deploy, which
        // deploys the newest release only. Generous: the release, the auto-deploy, then the deploy and verify jobs.
        var first = await WaitForAsync(async () => (await server.Client.ListDeploymentsAsync("demo", "staging"))
            .Where(d => d.State == "succeeded").MinBy(d => d.Number), seconds: 150);
        Assert.Contains(await server.Client.ListReleasesAsync("demo"), r => r.Version == $"0.1.{run.Number}" && r.RunId == run.Id);
        Assert.Contains($"deploying {first.Release} to staging (previous none)", await server.LogAsync(first.RunId!.Value, "deploy"));
        Assert.Equal(["staging", "production"], (await server.Client.ListEnvironmentsAsync("demo")).Select(e => e.Name));
    }

    [Fact]
    public async Task DemoProject_PlaysTheTalksFlowOnFirstStart_AndASecondStartAddsNothing()
    {
        using var data = new TempDirectory();
        int users, runs, audit;
        await using (var server = await SlipwayTestServer.StartAsync(o => o.Demo = true, dataDirectory: data.Path))
        {
            // In the background after start: DEMO-1 requested, its branch pushed and green, reviewed by another
            // developer, merged, released from main and deployed to staging by itself.
            var release = await WaitForAsync(async () => (await server.Client.ListReleasesAsync("demo")).FirstOrDefault(r => r.Items > 0), seconds: 120);
            var staging = await WaitForAsync(async () => (await server.Client.ListDeploymentsAsync("demo", "staging"))
                .FirstOrDefault(d => d.Release == release.Version && d.State == "succeeded"), seconds: 60);

            var item = await server.Client.GetWorkItemAsync("demo", 1);
            Assert.Equal(("DEMO-1", "Show the price in the basket", "ann"), (item.Key, item.Title, item.Requester));
            Assert.Equal("released", item.State);
            var change = Assert.Single(await server.Client.ListChangeRequestsAsync("demo"));
            Assert.Equal(("feature/DEMO-1-basket-price", "merged", "dave", "dave"), (change.Source, change.State, change.Author, change.MergedBy));
            var reviewed = await server.Client.GetChangeRequestAsync("demo", change.Number);
            Assert.Equal(["rita"], reviewed.Reviews.Where(r => r.Verdict == "approve").Select(r => r.Reviewer));
            var timeline = item.Timeline!.Select(e => (e.Kind, e.Ref)).ToList();
            Assert.Contains(("branch", "feature/DEMO-1-basket-price"), timeline);
            Assert.Contains(timeline, e => e.Kind == "change_request_merged");
            Assert.Contains(timeline, e => e.Kind == "release" && e.Ref.Contains(release.Version));
            Assert.Contains(item.Environments!, e => (e.Environment, e.Release, e.Status) == ("staging", release.Version, "deployed"));
            Assert.Equal(release.Version, staging.Release);

            // Production's gates: staging's verify step passed and measured calc, and the analyst signed the release off
            // after the UAT showcase; production has a live check. The dashboard says the release is ready.
            var signed = await WaitForAsync(async () => (await server.Client.ListSignOffsAsync("demo", release.Version)).FirstOrDefault());
            Assert.Equal(("uat", "staging", "accept", "ann"), (signed.Kind, signed.Environment, signed.Verdict, signed.SignedBy));
            var checklist = await server.Client.GetGateChecklistAsync("demo", release.Version, "production");
            Assert.Equal(["verify passed on staging", "calc_duration p95 < 500 ms on staging", "uat sign-off by analyst on staging"],
                checklist.Gates.Select(g => g.Gate));
            Assert.Equal("passed", checklist.Overall);
            var check = await WaitForAsync(async () => (await server.Client.ListChecksAsync("demo", "production")).FirstOrDefault());
            Assert.EndsWith("/healthz", check.Url);

            // Production waits for an analyst: nothing deployed or requested there, and promoting would ship DEMO-1.
            var production = (await server.Client.GetDashboardAsync("demo")).Environments.Single(e => e.Environment == "production");
            Assert.Equal((null, null), (production.Current, production.Latest));
            Assert.Contains((await server.Client.CompareEnvironmentsAsync("demo", "staging", "production")).Items, i => i.Key == "DEMO-1");

            using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SlipwayTestServer.AdminToken);
            var board = await http.GetStringAsync("/projects/demo/board");
            Assert.Contains("DEMO-1", board);
            Assert.Contains("Show the price in the basket", board);

            // The demo people have no password, and the story's tokens are revoked.
            var people = (await server.Client.ListUsersAsync()).Where(u => u.Username is "ann" or "dave" or "rita").ToList();
            Assert.Equal(3, people.Count);
            Assert.All(people, u => Assert.False(u.HasPassword));
            await WaitForAsync(async () => (await Access.AccessTestKit.AuditAsync(server, "action=account.self"))
                .Count(e => e.Detail == "demo story: API token revoked") == 3 ? "revoked" : null);
            (users, runs, audit) = ((await server.Client.ListUsersAsync()).Count, (await server.Client.ListRunsAsync("demo", 500)).Count,
                (await Access.AccessTestKit.AuditAsync(server, "actor=slipway")).Count(e => e.Detail?.Contains("demo") == true));
        }

        await using var again = await SlipwayTestServer.StartAsync(o => o.Demo = true, dataDirectory: data.Path);
        await Task.Delay(2000); // the story would have begun by now

        Assert.Single(await again.Client.ListWorkItemsAsync("demo"));
        Assert.Single(await again.Client.ListChangeRequestsAsync("demo"));
        Assert.Equal(users, (await again.Client.ListUsersAsync()).Count);
        Assert.Equal(runs, (await again.Client.ListRunsAsync("demo", 500)).Count);
        Assert.Equal(audit, (await Access.AccessTestKit.AuditAsync(again, "actor=slipway")).Count(e => e.Detail?.Contains("demo") == true));
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, int seconds = 60) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds} s");
            await Task.Delay(200);
        }
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
        Assert.Contains("\nslipway_open_requests 0\n", text); // the scrape itself is not counted
        Assert.Contains("\nslipway_node_draining 0\n", text);
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
