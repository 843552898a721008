using Slipway.Testing;

namespace Slipway.Server.Tests.EndToEnd;

public sealed class PipelineRunTests
{
    private const string TwoStages = """
        env: { GREETING: pipeline, LEVEL: pipeline }
        stages:
          - name: commit
            env: { LEVEL: stage }
            jobs:
              - name: build
                env: { LEVEL: job }
                run: |
                  mkdir -p out/sub test-results
                  echo "payload from $SLIPWAY_JOB" > out/sub/result.txt
                  echo "env: $GREETING $LEVEL $SLIPWAY_PROJECT $SLIPWAY_BRANCH $SLIPWAY_RUN $SLIPWAY_JOB ${SLIPWAY_COMMIT:0:7}"
                  cat > test-results/unit.xml <<'XML'
                  <testsuite name="u"><testcase classname="c" name="ok1"/><testcase classname="c" name="ok2"/><testcase classname="c" name="bad"><failure message="expected 1"/></testcase><testcase classname="c" name="skip"><skipped/></testcase></testsuite>
                  XML
                artifacts: [out/**]
                reports: [test-results/*.xml]
              - name: lint
                run: echo lint-ok
          - name: acceptance
            when: { branches: [main, "release/*"] }
            jobs:
              - name: integration
                run: |
                  test -f out/sub/result.txt
                  echo "got: $(cat out/sub/result.txt)"
        """;

    [Fact]
    public async Task Run_WithTwoStages_PassesArtifactsParsesReportsAndSucceeds()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(TwoStages);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        var id = (await server.Client.StartRunAsync("shop", "main", null)).Id;

        var run = await server.WaitForRunAsync(id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(repo.Head(), run.Commit);
        Assert.NotNull(run.StartedAt);
        Assert.NotNull(run.FinishedAt);
        Assert.Equal(["commit", "acceptance"], run.Stages.Select(s => s.Name));
        Assert.All(run.Stages.SelectMany(s => s.Jobs), j => Assert.Equal("succeeded", j.Status));
        var build = run.Stages[0].Jobs.Single(j => j.Name == "build");
        Assert.Equal(2, build.TestSummary!.Passed);
        Assert.Equal(1, build.TestSummary.Failed);
        Assert.Equal(1, build.TestSummary.Skipped);
        Assert.Contains(build.TestSummary.Failures, f => f.Name.EndsWith("bad") && f.Message.Contains("expected 1"));
        var artifact = Assert.Single(run.Artifacts);
        Assert.Equal("out/sub/result.txt", artifact.Path);
        Assert.Equal(64, artifact.Sha256.Length);

        var buildLog = await server.LogAsync(id, "build");
        Assert.Contains($"env: pipeline job shop main {id} build {repo.Head()[..7]}", buildLog);
        Assert.Contains("got: payload from build", await server.LogAsync(id, "integration"));
    }

    [Fact]
    public async Task Run_OnBranchOutsideFilter_SkipsFilteredStage()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(TwoStages);
        repo.CreateBranch("feature/x");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        var id = (await server.Client.StartRunAsync("shop", "feature/x", null)).Id;

        var run = await server.WaitForRunAsync(id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal("skipped", run.Stages[1].Status);
        Assert.Equal("skipped", run.Stages[1].Jobs[0].Status);
    }

    [Fact]
    public async Task FailedJob_FailsStageAndRun_AndSkipsLaterStages()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("""
            stages:
              - name: a
                jobs:
                  - { name: ok, run: "true" }
                  - { name: broken, run: "echo before; false; echo never" }
              - name: b
                jobs:
                  - { name: later, run: "true" }
            """);
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        Assert.Equal("failed", run.Status);
        Assert.Equal("failed", run.Stages[0].Status);
        var broken = run.Stages[0].Jobs.Single(j => j.Name == "broken");
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("exited with code 1", broken.FailureReason);
        Assert.Equal("skipped", run.Stages[1].Status);
        var log = await server.LogAsync(run.Id, "broken");
        Assert.Contains("before", log);
        Assert.DoesNotContain("never", log);
    }

    [Fact]
    public async Task Script_RunsWithPipefail_AndDefaultSigpipe()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("""
            stages:
              - name: s
                jobs:
                  - { name: sigpipe, run: "yes | head -n 2 || echo \"pipeline status $?\"" }
                  - { name: pipefail, run: "false | true; echo not-reached" }
            """);
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        var sigpipe = await server.LogAsync(run.Id, "sigpipe");
        Assert.Equal("succeeded", run.Stages[0].Jobs.Single(j => j.Name == "sigpipe").Status);
        Assert.Contains("pipeline status 141", sigpipe); // 128 + SIGPIPE: yes was killed like in a normal shell
        Assert.DoesNotContain("Broken pipe", sigpipe);
        Assert.Equal("failed", run.Stages[0].Jobs.Single(j => j.Name == "pipefail").Status);
        Assert.DoesNotContain("not-reached", await server.LogAsync(run.Id, "pipefail"));
    }

    [Fact]
    public async Task Script_RunsInItsOwnSessionAndGroup_WithStderrJoined_StdinAtEnd_AndOnlyTheGivenEnvironment()
    {
        // Without the sandbox, to see the session from inside (in it, the session's leader is bubblewrap, outside the
        // job's PID namespace; HostileJobTests show the job cannot see or signal anything outside).
        await using var server = await SlipwayTestServer.StartAsync(o => o.AgentSandbox = Slipway.Agent.Sandbox.SandboxMode.None);
        using var repo = Pipelines.Repo("""
            stages:
              - name: s
                jobs:
                  - name: session
                    env: { FROM_FILE: "yes" }
                    run: |
                      test "$(ps -o sid= -p $$ | tr -d ' ')" = "$$" && echo own-session
                      test "$(ps -o pgid= -p $$ | tr -d ' ')" = "$$" && echo own-group
                      echo on-stderr >&2
                      cat
                      echo "stdin at end, dir $(basename "$PWD"), FROM_FILE=$FROM_FILE, OUTSIDE=${SLIPWAY_TEST_OUTSIDE:-unset}"
            """);
        Environment.SetEnvironmentVariable("SLIPWAY_TEST_OUTSIDE", "leaked");
        try
        {
            var run = await server.CreateProjectAndWaitAsync("p", repo.Path);
            Assert.Equal("succeeded", run.Status);
            var log = await server.LogAsync(run.Id, "session");
            Assert.Contains("own-session", log);
            Assert.Contains("own-group", log);
            Assert.Contains("on-stderr", log);
            Assert.Contains("FROM_FILE=yes, OUTSIDE=unset", log);
            Assert.Contains("stdin at end, dir src", log);
        }
        finally { Environment.SetEnvironmentVariable("SLIPWAY_TEST_OUTSIDE", null); }
    }

    [Fact]
    public async Task JobWithRetry_FailingOnce_SucceedsOnSecondAttempt()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("""
            stages:
              - name: s
                jobs:
                  - name: flaky
                    retry: 1
                    run: |
                      if [ "$SLIPWAY_ATTEMPT" = 1 ]; then echo "first attempt fails"; exit 3; fi
                      echo "second attempt passes"
            """);
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        Assert.True(run.Status == "succeeded", System.Text.Json.JsonSerializer.Serialize(run));
        var job = run.Stages[0].Jobs[0];
        Assert.Equal(2, job.Attempt);
        var log = await server.LogAsync(run.Id, "flaky");
        Assert.Contains("first attempt fails", log);
        Assert.Contains("second attempt passes", log);
        // A line of Slipway's own separates the attempts, in order: the first's output, the marker, the second's.
        var marker = log.IndexOf("\n[slipway] attempt 2 of job 'flaky' started ", StringComparison.Ordinal);
        Assert.Matches(@"\[slipway\] attempt 2 of job 'flaky' started [0-9: -]+ UTC; attempt 1 failed: the script exited with code 3 \(mark [0-9a-f]{8}\)\n", log);
        Assert.Equal([log.Split("(mark ")[1][..8]], run.Stages[0].Jobs[0].AttemptMarks);
        Assert.True(log.IndexOf("first attempt fails", StringComparison.Ordinal) < marker && marker < log.IndexOf("second attempt passes", StringComparison.Ordinal), log);
        Assert.DoesNotContain("attempt 1 of job", log);
        Assert.Null(run.RetriedAt); // retried by its own rule, not by a person: the run was never finished and retried
    }

    [Fact]
    public async Task ManualRetry_OfFailedRun_RerunsFailedJobOnSameCommit()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("""
            stages:
              - name: s
                jobs:
                  - { name: steady, run: "echo steady" }
                  - name: needs-file
                    run: test "$READY" = yes
              - name: t
                jobs:
                  - { name: after, run: "echo after" }
            """);
        await server.Client.CreateProjectAsync("p", repo.Path, "main");
        var first = await server.WaitForRunAsync((await server.Client.ListRunsAsync("p")).Single().Id);
        Assert.Equal("failed", first.Status);
        await server.Client.SetVariableAsync("p", "READY", "yes", secret: false);

        var retried = await server.Client.RetryRunAsync(first.Id, "needs-file");
        Assert.NotEqual("failed", retried.Status);
        var run = await server.WaitForRunAsync(first.Id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(first.Commit, run.Commit);
        Assert.Equal(1, run.Stages[0].Jobs.Single(j => j.Name == "steady").Attempt);
        // The run keeps its first start and notes the retry; the stages it ran again timed afresh, from the retry on.
        Assert.Equal(first.StartedAt, run.StartedAt);
        Assert.NotNull(run.RetriedAt);
        Assert.True(run.RetriedAt >= first.FinishedAt);
        Assert.All(run.Stages, s => Assert.True(s.StartedAt >= run.RetriedAt, $"stage {s.Name} started {s.StartedAt:O}, retried {run.RetriedAt:O}"));
        Assert.Contains("[slipway] attempt 2 of job 'needs-file' started ", await server.LogAsync(run.Id, "needs-file"));
        Assert.Equal("succeeded", run.Stages[1].Jobs[0].Status);
        var again = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() => server.Client.RetryRunAsync(first.Id, null));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, again.Status);
    }

    [Fact]
    public async Task JobTimeout_StopsTheScriptAndFailsTheJob()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("""
            stages:
              - name: s
                jobs:
                  - { name: slow, run: "echo start; sleep 60", timeout: 2s }
            """);
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path, TimeSpan.FromSeconds(30));

        Assert.Equal("failed", run.Status);
        Assert.Contains("timed out after 2s", run.Stages[0].Jobs[0].FailureReason);
        Assert.True(run.FinishedAt - run.StartedAt < TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task JobOfAnotherPool_WaitsForAnAgentOfThatPool()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("""
            stages:
              - name: s
                jobs:
                  - { name: deploy, run: "true", pool: deploy }
            """);
        var id = await server.CreateProjectAsync("p", repo.Path);
        await Task.Delay(1500);

        var run = await server.Client.GetRunAsync(id);
        Assert.Equal("queued", run.Status);
        Assert.Equal("queued", run.Stages[0].Jobs[0].Status);
        Assert.Null(run.Stages[0].Jobs[0].Agent);
    }
    [Fact]
    public async Task EndedJobsLogs_AreArchivedToTheBlobStore_AndReadTheSame()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => { o.LogArchiveInterval = TimeSpan.FromMilliseconds(100); o.LogArchiveQuiet = TimeSpan.Zero; });
        using var repo = Pipelines.Repo("""
            stages:
              - name: commit
                jobs:
                  - { name: talk, run: "for i in $(seq 1 200); do echo line $i; done" }
            """);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        var id = (await server.Client.StartRunAsync("shop", "main", null)).Id;
        var run = await server.WaitForRunAsync(id);
        Assert.Equal("succeeded", run.Status);
        var jobId = run.Stages[0].Jobs.Single().Id;
        var logs = server.Service<LogStore>();
        var archived = await Eventually.ValueAsync(async () => await logs.StateAsync(jobId) is { ArchiveKey: not null } s && s.ArchivedLength == s.Length ? s : null,
            TimeSpan.FromSeconds(20), "the log archived");
        Assert.True(File.Exists(Path.Combine(server.Options.FullDataDirectory, archived.ArchiveKey!)));
        var text = await server.LogAsync(id, "talk");
        Assert.Contains("line 1\n", text);
        Assert.Contains("line 200\n", text);
        Assert.Equal(archived.Length, run.Stages[0].Jobs.Single().LogBytes);
    }
}
