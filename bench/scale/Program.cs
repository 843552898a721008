// Slipway at scale on PostgreSQL (issue 15, point 5). Starts a private PostgreSQL on 127.0.0.1, lets `slipway server`
// migrate a database, seeds a year of history into it (HistorySeeder, AuditSeeder), then measures on real server
// processes: page and API latencies on the seeded database, dispatch with simulated agents on an empty database and on
// the seeded one, and one node against two on the seeded one. Prints every figure, the ratios and a summary table.
//
//   slipway-bench-scale [--projects 20] [--runs 100000] [--deployments 10000] [--audit 500000] [--agents 100]
//                       [--jobs 2000] [--jobs-per-run 50] [--latency-n 50] [--warmup 30] [--timed 200] [--reps 1] [--pool 6] [--pool-of-two 3] [--warmup-batches 2]
//
// Started by bench/scale/run.sh, which builds the CLI in Release first (RepositoryLayout finds it).
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Slipway.Bench.Scale;
using Slipway.Testing;
using Slipway.Testing.Cluster;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var options = BenchOptions.Parse(args);
var shape = options.Shape;
Console.WriteLine($"history: {shape.Projects} projects, {shape.Runs} runs ({shape.Deployments} of them deployment runs), {shape.Deployments} deployments, " +
                  $"{shape.Projects * shape.ReleasesPerProject} releases, {shape.Projects * shape.ItemsPerProject} work items, {shape.AuditEntries} audit entries");
Console.WriteLine($"slipway: {RepositoryLayout.SlipwayDll}");

await using var teardown = new Teardown();
var postgres = await PostgresServer.StartAsync();
teardown.Add(() => postgres.DisposeAsync().AsTask());
using var work = new TempDirectory("slipway-bench-scale");
using var repos = new BenchRepositories(options.JobsPerRun);
var statements = await StatementStats.EnableAsync(postgres);
var postmaster = CpuMeter.PostmasterOf(postgres.LogFile);
var seeded = await DatabaseAsync(postgres, options.PoolSize);
// The same database as each of two nodes sees it: --pool-of-two connections per node (the database's capacity shared out).
var seededForTwo = new NpgsqlConnectionStringBuilder(seeded) { MaxPoolSize = options.PoolOfTwo }.ConnectionString;
var empty = await DatabaseAsync(postgres, options.PoolSize);

ClusterNode Node(string name, string database)
{
    var port = FreePort.Get();
    var data = Path.Combine(work.Path, name);
    var node = new ClusterNode(name, port, data, () =>
        // Every node shares one blob store and hosted-repository directory, as a cluster's nodes must (checked at start).
        ["server", "--data", data, "--urls", $"http://127.0.0.1:{port}", "--database", database, "--node-name", name, "--no-agent",
         "--blobs", Path.Combine(work.Path, "blobs")],
        new Dictionary<string, string>
        {
            ["SLIPWAY_HOSTED_DIR"] = Path.Combine(work.Path, "hosted"),
            ["SLIPWAY_BOOTSTRAP_TOKEN"] = SlipwayTestServer.AdminToken,
            ["SLIPWAY_POLL_SECONDS"] = "3600", // no git polling during the measurements
            ["SLIPWAY_POLL_WAIT_SECONDS"] = "5",
        });
    teardown.Add(() => { node.Kill(); node.DisposeLog(); return Task.CompletedTask; });
    return node;
}

// 1. The schema comes from the server itself; then the history goes in while no server runs (the audit chain's
//    appender would otherwise race the seeder).
Console.WriteLine($"\n=== seeding, load {Load.Average()}");
var migrator = Node("migrate", seeded);
migrator.Start();
await migrator.WaitHealthyAsync(TimeSpan.FromSeconds(120));
migrator.Stop();
var seedWatch = Stopwatch.StartNew();
await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(seeded) { CommandTimeout = 0 }.ConnectionString))
{
    await connection.OpenAsync();
    await new HistorySeeder(connection, shape, repos.Probe.Path, repos.Probe.Head(), BenchRepositories.Pipeline(1)).SeedAsync();
    Console.WriteLine($"  history written ({seedWatch.Elapsed.TotalSeconds:F0} s)");
    await new AuditSeeder(connection, shape.AuditEntries, shape.Projects).SeedAsync();
    Console.WriteLine($"  audit log written ({seedWatch.Elapsed.TotalSeconds:F0} s)");
    await using (var analyze = new NpgsqlCommand("VACUUM ANALYZE", connection)) await analyze.ExecuteNonQueryAsync();
    Console.WriteLine($"  seeded and analysed in {seedWatch.Elapsed.TotalSeconds:F0} s");
    await TableSizes.PrintAsync(connection);
}

// 2. Pages on the seeded database, one node.
var seededOne = Node("s1", seeded);
seededOne.Start();
await seededOne.WaitHealthyAsync(TimeSpan.FromSeconds(120));
// What an idle node asks of a long history (its background duties): it competes with every measurement below.
await using (var idle = QuerySampler.Start(seeded))
{
    await Task.Delay(TimeSpan.FromSeconds(10));
    await idle.PrintAsync("one idle node on the seeded database, 10 s");
}
Console.WriteLine($"\n=== pages on the seeded database ({options.Warmup} warm-up + {options.Timed} timed requests each, one at a time), load {Load.Average()}");
var pages = await new PageTimer(seededOne.Url, SlipwayTestServer.AdminToken, options.Warmup, options.Timed)
    .MeasureAsync(PageTimer.Endpoints($"svc{Math.Min(7, shape.Projects):D2}", Math.Min(42, shape.ItemsPerProject)));
if (pages.Any(p => p.Error is not null)) Console.WriteLine($"  node log (last lines):\n{seededOne.Tail(60)}");

// 3. Dispatch: empty database, seeded database, seeded with two nodes; repeated in that order. Every scenario starts its
//    nodes afresh and warms them with the same batches: a node kept running from one scenario to the next was warmer
//    (its code compiled further, its caches fuller) than one started for its scenario, and the comparisons measured that.
var dispatch = new List<DispatchFigures>();
var emptyOne = Node("e1", empty);
var seededFirstOfTwo = options.PoolOfTwo == options.PoolSize ? seededOne : Node("s1-of-two", seededForTwo);
var seededTwo = Node("s2", options.PoolOfTwo == options.PoolSize ? seeded : seededForTwo);
seededOne.Stop();
for (var rep = 1; rep <= options.Repetitions; rep++)
{
    dispatch.Add(await OnFreshNodesAsync($"empty database, rep {rep}", empty, emptyOne));
    dispatch.Add(await OnFreshNodesAsync($"seeded database, rep {rep}", seeded, seededOne));
    dispatch.Add(await OnFreshNodesAsync($"seeded database, two nodes, rep {rep}", seeded, seededFirstOfTwo, seededTwo));
}
seededOne.Start();
await seededOne.WaitHealthyAsync(TimeSpan.FromSeconds(120));

// 4. The seeded chain is one valid chain with the server's own entries before and after it.
var verify = await AuditCheck.VerifyAsync(seededOne.Url);
Console.WriteLine($"\n=== audit verify on the seeded database: {verify}");
seededOne.Stop();

Report.Print(options, pages, dispatch, verify);
return 0;

async Task<DispatchFigures> OnFreshNodesAsync(string label, string database, params ClusterNode[] nodes)
{
    foreach (var node in nodes) node.Start();
    foreach (var node in nodes) await node.WaitHealthyAsync(TimeSpan.FromSeconds(120));
    try { return await new DispatchScenario(label, nodes, database, options, repos, postmaster, statements).RunAsync(); }
    finally { foreach (var node in nodes) node.Stop(); }
}

static async Task<string> DatabaseAsync(PostgresServer postgres, int poolSize) =>
    // The test helper's pools are small (many test databases share 200 connections). Each node gets --pool connections
    // (default 6: PostgreSQL on these 2 cores serves a few busy connections best; docs/performance.md, issue 15).
    new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()) { MaxPoolSize = poolSize, Timeout = 30 }.ConnectionString;
