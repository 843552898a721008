using System.Text.Json;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.EndToEnd;

/// <summary>The real <c>slipway</c> program against a real server: what a user types.</summary>
public sealed class CliTests
{
    private static Task<(int Exit, string Out, string Err)> SlipwayAsync(SlipwayTestServer server, params string[] args) =>
        SlipwayProcess.RunAsync(args, new Dictionary<string, string>
        {
            ["SLIPWAY_SERVER"] = server.Url,
            ["SLIPWAY_TOKEN"] = SlipwayTestServer.AdminToken,
            ["XDG_CONFIG_HOME"] = Path.Combine(server.Options.FullDataDirectory, "cli-config"),
        });

    [Fact]
    public async Task Logs_OfARunWithoutJobs_SaysWhy_InsteadOfPrintingNothing()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo("stages: [oops\n");
        var run = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        Assert.Equal("failed", run.Status);

        var (exit, stdout, stderr) = await SlipwayAsync(server, "logs", run.Id.ToString());

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"run {run.Id} has no jobs, so no logs: its pipeline file is invalid:", stderr);
        Assert.Contains(".slipway.yml:", stderr);
    }

    [Fact]
    public async Task PipelineInNewRepository_RunsEndToEndThroughTheCli()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = GitRepository.Create("main");
        repo.WriteFile(".slipway.yml", """
            stages:
              - name: commit
                jobs:
                  - name: build
                    run: ./build.sh
                    artifacts: [dist/*.txt]
                    reports: [reports/*.xml]
              - name: acceptance
                jobs:
                  - name: verify
                    run: grep -q "built from" dist/app.txt && echo "verified artifact"
            """);
        repo.WriteFile("build.sh", """
            #!/usr/bin/env bash
            mkdir -p dist reports
            echo "built from $SLIPWAY_COMMIT" > dist/app.txt
            echo '<testsuites><testsuite name="t"><testcase classname="a" name="one"/><testcase classname="a" name="two"/></testsuite></testsuites>' > reports/junit.xml
            echo build-done
            """, executable: true);
        repo.Commit("first");

        var lint = await SlipwayAsync(server, "lint", Path.Combine(repo.Path, ".slipway.yml"));
        Assert.Equal(0, lint.Exit);
        Assert.Contains("OK (2 stages, 2 jobs)", lint.Out);

        var create = await SlipwayAsync(server, "project", "create", "cli-shop", "--repo", repo.Path);
        Assert.True(create.Exit == 0, create.Err);
        await server.WaitForRunAsync((await server.Client.ListRunsAsync("cli-shop")).Single().Id);

        var start = await SlipwayAsync(server, "run", "start", "cli-shop", "--branch", "main", "--wait");
        Assert.True(start.Exit == 0, start.Out + start.Err);
        Assert.Contains("stage commit: succeeded", start.Out); // progress lines; "running" may be skipped by a fast run
        Assert.Contains("stage acceptance: succeeded", start.Out);
        Assert.Contains("job build: succeeded (tests: 2 passed, 0 failed, 0 skipped)", start.Out);
        Assert.Contains(": succeeded", start.Out.Split('\n').Last(l => l.Contains("run ")));

        var runs = JsonSerializer.Deserialize<List<RunSummaryDto>>((await SlipwayAsync(server, "run", "list", "cli-shop", "--json")).Out, SlipwayClient.Json)!;
        Assert.Equal(2, runs.Count);
        var show = JsonSerializer.Deserialize<RunDto>((await SlipwayAsync(server, "run", "show", runs[0].Id.ToString(), "--json")).Out, SlipwayClient.Json)!;
        Assert.Equal("succeeded", show.Status);
        Assert.Equal("dist/app.txt", Assert.Single(show.Artifacts).Path);
        // As text: how long the run, each stage and each job took.
        var text = (await SlipwayAsync(server, "run", "show", runs[0].Id.ToString())).Out;
        Assert.Matches(@"(?m)^  took [0-9.]+m?s?( [0-9]+s)?$", text);
        Assert.Matches(@"(?m)^  stage \S+: succeeded \([0-9.]+m?s?( [0-9]+s)?\)$", text);
        Assert.Matches(@"(?m)^    job build: succeeded \([0-9.]+m?s?( [0-9]+s)?\)", text);

        var logs = await SlipwayAsync(server, "logs", runs[0].Id.ToString(), "--job", "verify");
        Assert.Contains("verified artifact", logs.Out);
        var follow = await SlipwayAsync(server, "logs", runs[0].Id.ToString(), "--job", "build", "--follow");
        Assert.Contains("build-done", follow.Out);
    }

    [Fact]
    public async Task RunStartWait_OfFailingRun_ExitsNonZero_AndCommandsReportServerErrors()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo failing; exit 4"));
        await server.Client.CreateProjectAsync("p", repo.Path, "main");

        var start = await SlipwayAsync(server, "run", "start", "p", "--wait");
        var missing = await SlipwayAsync(server, "run", "show", "999999");
        var badRepo = await SlipwayAsync(server, "project", "create", "q", "--repo", "/no/such/repo");

        Assert.Equal(1, start.Exit);
        Assert.Contains("the script exited with code 4", start.Out);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("error: no run 999999", missing.Err);
        Assert.Equal(1, badRepo.Exit);
        Assert.Contains("cannot fetch /no/such/repo", badRepo.Err);
    }

    [Fact]
    public async Task RunCommands_NameARunByProjectAndNumber_AsTheWebUiDoes()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var first = Pipelines.Repo(Pipelines.OneJob("echo from-a"));
        using var second = Pipelines.Repo(Pipelines.OneJob("echo from-b"));
        // Two projects: their runs #1 have different ids, and the id of b's run #1 is not 1.
        var runA = await server.CreateProjectAndWaitAsync("a", first.Path);
        var runB = await server.CreateProjectAndWaitAsync("b", second.Path);

        var show = await SlipwayAsync(server, "run", "show", "b#1");
        var logs = await SlipwayAsync(server, "logs", "b#1");
        var byId = await SlipwayAsync(server, "logs", runA.Id.ToString());
        var missing = await SlipwayAsync(server, "run", "show", "b#7");
        var noProject = await SlipwayAsync(server, "run", "show", "#1"); // which project's #1? run show names none
        var nonsense = await SlipwayAsync(server, "logs", "b#x");
        // ".." is no project name: sent, the HTTP client would drop the dot segment and ask for the run with id 1.
        var dots = await SlipwayAsync(server, "run", "show", "..#1");
        var viaApi = await server.Client.GetRunByNumberAsync("b", 1);

        Assert.NotEqual(runA.Id, runB.Id);
        Assert.Equal(runB.Id, viaApi.Id);
        Assert.True(show.Exit == 0, show.Err);
        Assert.StartsWith($"run #1 (id {runB.Id}) of b: succeeded", show.Out);
        Assert.True(logs.Exit == 0, logs.Err);
        Assert.Contains("from-b", logs.Out);
        Assert.DoesNotContain("from-a", logs.Out);
        Assert.Contains("from-a", byId.Out);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("error: project 'b' has no run #7", missing.Err);
        Assert.Equal(2, noProject.Exit);
        Assert.Contains("'#1' names no run: give its id (18) or its project and number (shop#16)", noProject.Err);
        Assert.Equal(2, nonsense.Exit);
        Assert.Equal(2, dots.Exit);
        Assert.Contains("'..#1' names no run: a project name is 1-64 letters", dots.Err);
    }

    [Fact]
    public async Task Lint_OfInvalidFile_PrintsFileLineColumnErrors_AndExitsOne()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "pipeline.yml");
        await File.WriteAllTextAsync(file, "stages:\n  - name: a\n    jobs: []\n  - name: a\n    jobs:\n      - { name: j, run: x, timeout: 10 minutes }\n");

        var lint = await SlipwayAsync(server, "lint", file);

        Assert.Equal(1, lint.Exit);
        Assert.Contains($"{file}:3:", lint.Out);
        Assert.Contains($"{file}:4:", lint.Out);
        Assert.Contains("invalid duration '10 minutes'", lint.Out);
        Assert.DoesNotContain("Exception", lint.Out + lint.Err);
    }

    [Fact]
    public async Task Lint_OfHugeFile_ReportsItsRealSizeWithoutReadingIt()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "huge.yml");
        await File.WriteAllTextAsync(file, "# " + new string('x', 2_000_000));

        var lint = await SlipwayAsync(server, "lint", file);

        Assert.Equal(1, lint.Exit);
        Assert.Contains($"{file}:1:1: the pipeline file is 2000002 bytes; the limit is 1048576 bytes", lint.Out);
    }

    [Fact]
    public async Task LintJson_PrintsTheResultAsJson_WithTheSameExitCodes()
    {
        using var dir = new TempDirectory();
        var good = Path.Combine(dir.Path, "good.yml");
        await File.WriteAllTextAsync(good, "stages:\n  - name: a\n    jobs:\n      - { name: j, run: x }\n");
        var bad = Path.Combine(dir.Path, "bad.yml");
        await File.WriteAllTextAsync(bad, "stages:\n  - name: a\n    jobs:\n      - { name: j, run: x, timeout: 10 minutes }\n");

        var valid = await SlipwayProcess.RunAsync(["lint", good, "--json"]);
        var invalid = await SlipwayProcess.RunAsync(["lint", "--json", bad]);
        var missing = await SlipwayProcess.RunAsync(["lint", "--json", Path.Combine(dir.Path, "none.yml")]);
        var text = await SlipwayProcess.RunAsync(["lint", good]);
        var folder = await SlipwayProcess.RunAsync(["lint", dir.Path]);

        Assert.True(valid.Exit == 0, valid.Err);
        var ok = JsonDocument.Parse(valid.Out).RootElement;
        Assert.Equal(good, ok.GetProperty("file").GetString());
        Assert.True(ok.GetProperty("valid").GetBoolean());
        Assert.Equal((1, 1), (ok.GetProperty("stages").GetInt32(), ok.GetProperty("jobs").GetInt32()));
        Assert.Equal(0, ok.GetProperty("errors").GetArrayLength());

        Assert.Equal(1, invalid.Exit);
        var result = JsonDocument.Parse(invalid.Out).RootElement;
        Assert.False(result.GetProperty("valid").GetBoolean());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("stages").ValueKind);
        var error = Assert.Single(result.GetProperty("errors").EnumerateArray());
        Assert.Equal(4, error.GetProperty("line").GetInt32());
        Assert.Equal("stages[0].jobs[0].timeout", error.GetProperty("path").GetString());
        Assert.Contains("invalid duration '10 minutes'", error.GetProperty("message").GetString());
        Assert.StartsWith($"{bad}:4:", error.GetProperty("text").GetString());

        Assert.Equal(2, missing.Exit);
        Assert.Contains("no such file", missing.Err);
        Assert.Equal(2, folder.Exit);
        Assert.Contains($"{dir.Path}: is a folder; give the pipeline file (e.g. {Path.Combine(dir.Path, ".slipway.yml")})", folder.Err);
        Assert.Equal(0, text.Exit);
        Assert.Contains("OK (1 stage, 1 job)", text.Out); // counts in the right number
    }

    [Fact]
    public async Task ProjectCreateHosted_MakesAnEmptyHostedRepository_AndNeedsEitherRepoOrHosted()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);

        var hosted = await SlipwayAsync(server, "project", "create", "app", "--hosted");
        var neither = await SlipwayAsync(server, "project", "create", "x");
        var both = await SlipwayAsync(server, "project", "create", "y", "--hosted", "--repo", "/tmp");

        Assert.True(hosted.Exit == 0, hosted.Err);
        Assert.Contains("created project app (default branch main)", hosted.Out);
        // The real address to clone, from the server the CLI talks to; no webhook: pushes to it start runs by themselves.
        Assert.Contains($"clone: git clone {server.Url}/git/app.git (user: anything, password: your API token)", hosted.Out);
        Assert.DoesNotContain("<server>", hosted.Out);
        Assert.DoesNotContain("webhook", hosted.Out + hosted.Err, StringComparison.OrdinalIgnoreCase);
        var json = await SlipwayAsync(server, "project", "create", "app2", "--hosted", "--json");
        Assert.True(json.Exit == 0, json.Err);
        Assert.Null(JsonSerializer.Deserialize<ProjectCreatedDto>(json.Out, SlipwayClient.Json)!.WebhookSecret);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        var external = await SlipwayAsync(server, "project", "create", "ext", "--repo", repo.Path);
        Assert.Matches(@"webhook: POST /api/v1/projects/ext/hooks/git, HMAC-SHA256 secret \(shown once\): [0-9a-f]{48}", external.Out);
        // A lost secret is replaced: a new one, shown once; a hosted project has none to replace.
        var replaced = await SlipwayAsync(server, "project", "replace-webhook-secret", "ext", "--json");
        Assert.True(replaced.Exit == 0, replaced.Err);
        var secret = JsonSerializer.Deserialize<WebhookSecretDto>(replaced.Out, SlipwayClient.Json)!.WebhookSecret;
        Assert.Matches("^[0-9a-f]{48}$", secret);
        Assert.DoesNotContain(secret, external.Out);
        var ofHosted = await SlipwayAsync(server, "project", "replace-webhook-secret", "app");
        Assert.Equal(1, ofHosted.Exit);
        Assert.Contains("'app' is hosted by Slipway: its pushes start runs without a webhook", ofHosted.Err);
        Assert.True(Directory.Exists(Path.Combine(server.Options.FullDataDirectory, "hosted", "app.git")));
        Assert.Empty(await server.Client.ListRunsAsync("app"));
        Assert.Equal(2, neither.Exit);
        Assert.Equal(2, both.Exit);
        Assert.Contains("give either --repo URL or --hosted", both.Err);
    }
}
