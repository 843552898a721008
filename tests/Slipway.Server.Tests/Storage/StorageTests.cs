using Dapper;
using Slipway.Core.Pipelines;
using Slipway.Core.Runs;
using Slipway.Testing;

namespace Slipway.Server.Tests.Storage;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

/// <summary>
/// The stores against both databases: a real SQLite file and a real PostgreSQL server (one fresh database per test).
/// Each test runs the same code on each dialect.
/// </summary>
[Collection("postgres")]
public sealed class StorageTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    private Task<SqlDatabase> OpenAsync(string dialect) => MigratedDatabase.OpenAsync(dialect, _dir, postgres);

    private static RunPlan Plan(string yaml, string branch = "main") => RunPlanner.Plan(PipelineParser.Parse(yaml).Pipeline!, branch);

    private const string TwoStages = """
        stages:
          - name: a
            jobs:
              - { name: one, run: "true" }
              - { name: two, run: "true", retry: 1 }
          - name: b
            jobs:
              - { name: three, run: "true", pool: deploy, labels: [linux] }
        """;

    /// <summary>A migrated database with one project, and the stores the run tests use.</summary>
    private async Task<(SqlDatabase Db, ProjectRow Project, RunStore Runs, JobLeaseStore Leases)> RunsKitAsync(string dialect)
    {
        var db = await OpenAsync(dialect);
        var project = (await new ProjectStore(db).CreateAsync("p", "/repo", "main", "s", new Dictionary<string, string>(), 1))!;
        return (db, project, new RunStore(db), new JobLeaseStore(db));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task Migrations_AreIdempotent_AndCreateEveryTable(string dialect)
    {
        using var db = await OpenAsync(dialect);
        Migrator.Upgrade(db); // a second start runs nothing again
        var tables = new[] { "users", "api_tokens", "projects", "branches", "runs", "stages", "jobs", "artifacts", "agents", "registration_tokens" };
        foreach (var table in tables)
            Assert.Equal(0, await db.ReadAsync(c => c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}")));
    }

    /// <summary>Three nodes started at once on an empty PostgreSQL database: they take turns, and all three start.</summary>
    [Fact]
    public async Task ThreeNodesMigratingAnEmptyDatabaseAtOnce_AllSucceed()
    {
        var connection = await postgres.CreateDatabaseAsync();
        var nodes = Enumerable.Range(0, 3).Select(_ => SqlDatabase.ForPostgres(connection)).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(db => Task.Run(() => Migrator.Upgrade(db))));
            Assert.Equal(0, await nodes[0].ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM release_parents")));
            // Every script ran once: DbUp's journal lists each one a single time.
            var journal = (await nodes[0].ReadAsync(c => c.QueryAsync<string>("SELECT scriptname FROM schemaversions"))).ToList();
            Assert.Equal(journal.Count, journal.Distinct().Count());
            Assert.Contains(journal, n => n.EndsWith("0037_release_lineage.sql"));
        }
        finally { foreach (var db in nodes) db.Dispose(); }
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task RunLifecycle_ThroughLeases_MatchesOnBothDatabases(string dialect)
    {
        using var db = await OpenAsync(dialect);
        var projects = new ProjectStore(db);
        var runs = new RunStore(db);
        var leases = new JobLeaseStore(db);
        var agents = new AgentStore(db);
        var project = (await projects.CreateAsync("p", "/repo", "main", "secret", new Dictionary<string, string> { ["main"] = new('a', 40) }, 1000))!;
        var (agentId, status) = await agents.RegisterAsync("ag", "build", "", 2, "hash-1", true, 1, 1000);
        Assert.Equal("approved", status);

        var (runId, pools) = await runs.CreateAsync(new NewRun(project.Id, "main", new string('a', 40), "msg", "manual", Plan(TwoStages), []), 2000);
        Assert.Equal(["build"], pools);
        Assert.Equal("queued", (await runs.GetAsync(runId))!.Run.Status);
        Assert.Equal(1, (await runs.GetAsync(runId))!.Run.Number);

        var labels = new HashSet<string>();
        var first = (await leases.TryClaimAsync(agentId, "build", labels, TimeSpan.FromSeconds(30), 3000))!;
        var second = (await leases.TryClaimAsync(agentId, "build", labels, TimeSpan.FromSeconds(30), 3000))!;
        Assert.Null(await leases.TryClaimAsync(agentId, "build", labels, TimeSpan.FromSeconds(30), 3000));
        Assert.Equal(["one", "two"], new[] { first.Name, second.Name }.Order());
        Assert.Equal("running", (await runs.GetAsync(runId))!.Run.Status);

        // A stale lease id cannot finish the job.
        Assert.Null(await leases.FinishAsync(first.Id, "not-the-lease", new JobResult(ExecutionStatus.Succeeded, 0, null, null, 0, false), 4000));
        Assert.NotNull(await leases.FinishAsync(first.Id, first.LeaseId!, new JobResult(ExecutionStatus.Succeeded, 0, null, null, 10, false), 4000));
        // 'two' fails once: retry 1 puts it back in the queue.
        var requeue = (await leases.FinishAsync(second.Id, second.LeaseId!, new JobResult(ExecutionStatus.Failed, 1, "exit 1", null, 5, false), 4000))!;
        Assert.Contains("build", requeue.Pools);
        var again = (await leases.TryClaimAsync(agentId, "build", labels, TimeSpan.FromSeconds(30), 5000))!;
        Assert.Equal(second.Id, again.Id);
        Assert.Equal(2, again.Attempt);
        var advance = (await leases.FinishAsync(again.Id, again.LeaseId!, new JobResult(ExecutionStatus.Succeeded, 0, null, null, 5, false), 6000))!;
        Assert.Contains("deploy", advance.Pools);

        // Stage b needs pool deploy and label linux.
        Assert.Null(await leases.TryClaimAsync(agentId, "build", labels, TimeSpan.FromSeconds(30), 7000));
        Assert.Null(await leases.TryClaimAsync(agentId, "deploy", labels, TimeSpan.FromSeconds(30), 7000));
        var third = (await leases.TryClaimAsync(agentId, "deploy", new HashSet<string> { "linux", "x64" }, TimeSpan.FromSeconds(30), 7000))!;
        Assert.Equal("three", third.Name);

        // Its agent vanishes: the lease expires and the job fails as agent lost.
        var expired = await leases.ExpireAsync(7000 + 31_000);
        Assert.Equal([third.Id], expired.Jobs);
        var details = (await runs.GetAsync(runId))!;
        Assert.Equal("failed", details.Run.Status);
        Assert.Contains("agent lost", details.Jobs.Single(j => j.Name == "three").FailureReason);
        Assert.Equal(["succeeded", "failed"], details.Stages.Select(s => s.Status));
        Assert.Equal(2000, details.Run.CreatedAt);
        Assert.Equal(38_000, details.Run.FinishedAt);
    }

    /// <summary>
    /// Eight agents claiming three fresh runs at once: no job twice, and every run and stage is running with its start time
    /// (the first claims of a stage queue for the run's lock; whoever comes after the first finds both running and skips
    /// the evaluation).
    /// </summary>
    [Theory, MemberData(nameof(Dialects))]
    public async Task ConcurrentClaims_NeverHandOneJobToTwoAgents(string dialect)
    {
        using var db = await OpenAsync(dialect);
        var project = (await new ProjectStore(db).CreateAsync("p", "/repo", "main", "s", new Dictionary<string, string>(), 1))!;
        var runs = new RunStore(db);
        var jobs = string.Join("\n", Enumerable.Range(0, 20).Select(i => $"      - {{ name: j{i}, run: \"true\" }}"));
        for (var r = 0; r < 3; r++)
            await runs.CreateAsync(new NewRun(project.Id, "main", new string('b', 40), null, "t", Plan($"stages:\n  - name: s\n    jobs:\n{jobs}\n"), []), 2);
        var leases = new JobLeaseStore(db);

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(agent => Task.Run(async () =>
        {
            var mine = new List<long>();
            while (await leases.TryClaimAsync(agent, "build", new HashSet<string>(), TimeSpan.FromSeconds(30), 3) is { } job) mine.Add(job.Id);
            return mine;
        })));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(60, all.Count);
        Assert.Equal(60, all.Distinct().Count());
        var started = (await db.ReadAsync(c => c.QueryAsync<(string Run, long? RunStarted, string Stage, long? StageStarted)>(
            "SELECT r.status, r.started_at, s.status, s.started_at FROM runs r JOIN stages s ON s.run_id = r.id"))).ToList();
        Assert.Equal(3, started.Count);
        Assert.All(started, s => Assert.Equal(("running", 3L, "running", 3L), (s.Run, s.RunStarted, s.Stage, s.StageStarted)));
    }

    /// <summary>
    /// Every job of a 20-job stage finishing at the same moment: most finishes skip the run's evaluation (the stage looked
    /// busy to them), so on PostgreSQL the last commit must still see the stage done and move the run on, every time.
    /// </summary>
    [Theory, MemberData(nameof(Dialects))]
    public async Task ConcurrentFinishes_OfOneStage_AlwaysMoveTheRunOn(string dialect)
    {
        var (db, project, runs, leases) = await RunsKitAsync(dialect);
        using var _ = db;
        var jobs = string.Join("\n", Enumerable.Range(0, 20).Select(i => $"      - {{ name: j{i}, run: \"true\" }}"));
        var yaml = $"stages:\n  - name: wide\n    jobs:\n{jobs}\n  - name: next\n    jobs:\n      - {{ name: last, run: \"true\", pool: deploy }}\n";
        for (var round = 0; round < 5; round++)
        {
            var (runId, _) = await runs.CreateAsync(new NewRun(project.Id, "main", new string('c', 40), null, "t", Plan(yaml), []), 2);
            var claimed = new List<JobRow>();
            while (await leases.TryClaimAsync(1, "build", new HashSet<string>(), TimeSpan.FromSeconds(30), 3) is { } job) claimed.Add(job);
            Assert.Equal(20, claimed.Count);

            var changes = await Task.WhenAll(claimed.Select(job => Task.Run(() =>
                leases.FinishAsync(job.Id, job.LeaseId!, new JobResult(ExecutionStatus.Succeeded, 0, null, null, 0, false), 4))));

            var details = (await runs.GetAsync(runId))!;
            Assert.Equal(["succeeded", "queued"], details.Stages.Select(s => s.Status));
            Assert.Equal("queued", details.Jobs.Single(j => j.Name == "last").Status);
            Assert.Contains(changes, c => c!.Pools.Contains("deploy")); // the agents of the next stage's pool are woken
            var last = (await leases.TryClaimAsync(1, "deploy", new HashSet<string>(), TimeSpan.FromSeconds(30), 5))!;
            await leases.FinishAsync(last.Id, last.LeaseId!, new JobResult(ExecutionStatus.Succeeded, 0, null, null, 0, false), 6);
            Assert.Equal("succeeded", (await runs.GetAsync(runId))!.Run.Status);
        }
    }

    /// <summary>
    /// A retry is not an end: the only started job of a stage going back to the queue sends the stage and the run back to
    /// queued (RunEvaluator's rule), even though the stage still has unfinished jobs, the case finishes otherwise skip.
    /// </summary>
    [Theory, MemberData(nameof(Dialects))]
    public async Task RequeuedJob_InAStageWithOtherJobs_SendsTheRunBackToQueued(string dialect)
    {
        var (db, project, runs, leases) = await RunsKitAsync(dialect);
        using var _ = db;
        var (runId, _) = await runs.CreateAsync(new NewRun(project.Id, "main", new string('e', 40), null, "t", Plan("""
            stages:
              - name: s
                jobs:
                  - { name: flaky, run: "true", retry: 1 }
                  - { name: other, run: "true" }
            """), []), 2);
        var flaky = (await leases.TryClaimAsync(1, "build", new HashSet<string>(), TimeSpan.FromSeconds(30), 3))!;
        Assert.Equal(("flaky", "running"), (flaky.Name, (await runs.GetAsync(runId))!.Run.Status));

        var change = (await leases.FinishAsync(flaky.Id, flaky.LeaseId!, new JobResult(ExecutionStatus.Failed, 1, "exit 1", null, 0, false), 4))!;

        Assert.Contains("build", change.Pools);
        var details = (await runs.GetAsync(runId))!;
        Assert.Equal(("queued", "queued"), (details.Run.Status, details.Stages.Single().Status));
        Assert.All(details.Jobs, j => Assert.Equal("queued", j.Status));
    }

    /// <summary>A node killed between a finish and its run's evaluation (FinishAsync's second step): the sweep moves the run on.</summary>
    [Theory, MemberData(nameof(Dialects))]
    public async Task FinishedStageNeverEvaluated_IsMovedOnByTheSweep(string dialect)
    {
        var (db, project, runs, leases) = await RunsKitAsync(dialect);
        using var _ = db;
        var (runId, _) = await runs.CreateAsync(new NewRun(project.Id, "main", new string('d', 40), null, "t", Plan(TwoStages), []), 2);
        while (await leases.TryClaimAsync(1, "build", new HashSet<string>(), TimeSpan.FromSeconds(30), 3) is not null) { }
        Assert.Empty((await leases.EvaluateFinishedStagesAsync(4)).Runs!); // nothing to do while the stage runs
        // The finishes committed, the evaluation never ran: what a killed node leaves behind.
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE jobs SET status = 'succeeded', finished_at = 4 WHERE run_id = @runId AND stage_idx = 0", new { runId }, tx));

        var moved = await leases.EvaluateFinishedStagesAsync(5);

        Assert.Equal(["deploy"], moved.Pools);
        Assert.Equal([runId], moved.Runs!);
        var details = (await runs.GetAsync(runId))!;
        Assert.Equal(["succeeded", "queued"], details.Stages.Select(s => s.Status));
        Assert.Equal("queued", details.Jobs.Single(j => j.Name == "three").Status);
        Assert.Empty((await leases.EvaluateFinishedStagesAsync(6)).Runs!);
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task BranchHeads_ReportOnlyNewOrMovedBranches(string dialect)
    {
        using var db = await OpenAsync(dialect);
        var projects = new ProjectStore(db);
        var project = (await projects.CreateAsync("p", "/r", "main", "s", new Dictionary<string, string> { ["main"] = "1", ["old"] = "2" }, 1))!;

        var changed = await projects.UpdateHeadsAsync(project.Id, new Dictionary<string, string> { ["main"] = "1", ["new"] = "3" }, 2);
        var again = await projects.UpdateHeadsAsync(project.Id, new Dictionary<string, string> { ["main"] = "1", ["new"] = "3" }, 3);

        Assert.Equal([("new", "3")], changed);
        Assert.Empty(again);
        Assert.Equal(["main", "new"], (await projects.BranchesAsync(project.Id)).Select(b => b.Name));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task TwoDetectorsRecordingTheSamePush_ReportItOnce(string dialect)
    {
        using var db = await OpenAsync(dialect);
        var projects = new ProjectStore(db);
        var project = (await projects.CreateAsync("p", "/r", "main", "s", new Dictionary<string, string> { ["main"] = "1" }, 1))!;
        var pushed = new Dictionary<string, string> { ["main"] = "2", ["topic"] = "3" };

        var reports = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => projects.UpdateHeadsAsync(project.Id, pushed, 2))));

        Assert.Equal(2, reports.Sum(r => r.Count));
        Assert.Equal(["main", "topic"], reports.SelectMany(r => r).Select(c => c.Branch).Order());
    }

    public void Dispose() => _dir.Dispose();
}
