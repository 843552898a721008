using Npgsql;
using Slipway.Client;
using Slipway.Testing;
using Slipway.Testing.Cluster;

namespace Slipway.Bench.Scale;

public sealed record DispatchFigures(string Label, int Nodes, Summary QueuedToClaimed, Summary RequestToClaimed, int Jobs, double Seconds)
{
    public double JobsPerSecond => Jobs / Seconds;
}

/// <summary>
/// Dispatch with simulated agents on running nodes, after the warm-up batches: latency, one single-job run at a time (its job queued → its lease
/// received by an agent, and the start request → the lease), then throughput, a batch queued complete while the agents
/// wait at their gate and then released at once (jobs finished per second until the last one). The agents are spread
/// over the nodes round robin; runs are started through the first node, so with two nodes the other learns of new
/// jobs through PostgreSQL's NOTIFY, as a real cluster does.
/// </summary>
public sealed class DispatchScenario(string label, IReadOnlyList<ClusterNode> nodes, string database, BenchOptions options, BenchRepositories repos,
    int postmasterPid, StatementStats statements)
{
    public const string Pool = "bench";

    public async Task<DispatchFigures> RunAsync()
    {
        Console.WriteLine($"\n=== dispatch: {label} ({nodes.Count} node{(nodes.Count > 1 ? "s" : "")}, {options.Agents} agents), load {Load.Average()}");
        using var admin = new SlipwayClient(nodes[0].Url, SlipwayTestServer.AdminToken);
        var token = (await admin.CreateAgentTokenAsync(Pool, preApproved: true)).Token;
        var crew = new AgentCrew();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var agents = Enumerable.Range(0, options.Agents)
            .Select(i => crew.Agent(nodes[i % nodes.Count].Url, $"sim-{tag}-{i:D3}", Pool)).ToList();
        using var stop = new CancellationTokenSource();
        var working = new List<Task>();
        try
        {
            foreach (var agent in agents) await agent.RegisterAsync(token, stop.Token);
            working.AddRange(agents.Select(a => Task.Run(() => a.RunAsync(stop.Token))));
            await EnsureProjectsAsync(admin);
            await WaitIdleAsync();

            // Batches not counted first: every scenario's nodes were started for it, so their hot paths would still be tier-0
            // code being recompiled while the latency probes and the counted batch run. Every scenario gets the same warm-up.
            for (var i = 0; i < options.WarmupBatches; i++)
            {
                var (warmJobs, warmSeconds) = await BatchAsync(admin, crew, counted: false);
                Console.WriteLine($"  warm-up batch (not counted): {warmJobs} jobs in {warmSeconds:F2} s = {warmJobs / warmSeconds:F1} jobs/s");
            }
            // The single-job path's own warm-up (its code differs from a batch's in places: a run of one job).
            for (var i = 0; i < 10; i++) await ProbeAsync(admin, crew);
            var queued = new List<double>();
            var requested = new List<double>();
            for (var i = 0; i < options.LatencyRuns; i++)
            {
                var (fromQueue, fromRequest) = await ProbeAsync(admin, crew);
                queued.Add(fromQueue);
                requested.Add(fromRequest);
                await Task.Delay(100);
            }
            var q = Summary.Of(queued);
            var r = Summary.Of(requested);
            Console.WriteLine($"  latency, job queued -> lease at the agent: {q}");
            Console.WriteLine($"  latency, start request -> lease at the agent: {r}");

            var (jobs, seconds) = await BatchAsync(admin, crew, counted: true);
            Console.WriteLine($"  throughput: {jobs} jobs in {seconds:F2} s = {jobs / seconds:F1} jobs/s, load {Load.Average()}");
            return new DispatchFigures(label, nodes.Count, q, r, jobs, seconds);
        }
        finally
        {
            crew.Open();
            await stop.CancelAsync();
            await Task.WhenAll(working);
            foreach (var agent in agents) agent.Dispose();
        }
    }

    private async Task EnsureProjectsAsync(SlipwayClient admin)
    {
        if (await ScalarAsync("SELECT COUNT(*) FROM projects WHERE name IN ('probe', 'batch')") == 2) return;
        // Creating a project starts its first run; the agents are already polling and take it.
        await admin.CreateProjectAsync("probe", repos.Probe.Path, "main");
        await admin.CreateProjectAsync("batch", repos.Batch.Path, "main");
    }

    /// <summary>One single-job run; waits for an agent to receive its lease.</summary>
    private async Task<(double FromQueue, double FromRequest)> ProbeAsync(SlipwayClient admin, AgentCrew crew)
    {
        var before = AgentCrew.NowMs();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var run = await admin.StartRunAsync("probe", "main", null);
        var claimedAt = 0L;
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var claim = crew.Claims.Values.FirstOrDefault(c => c.RunId == run.Id);
            if (claim.RunId != 0) { claimedAt = claim.ClaimedAtMs; break; }
            await Task.Delay(1);
        }
        if (claimedAt == 0) throw new TimeoutException($"run {run.Id}'s job was not handed out within 30 s");
        var queuedAt = await ScalarAsync($"SELECT queued_at FROM jobs WHERE run_id = {run.Id}");
        return (claimedAt - queuedAt, claimedAt - before);
    }

    /// <summary>Queues the whole batch behind the closed gate, then opens it and times until the last job is finished.</summary>
    private async Task<(int Jobs, double Seconds)> BatchAsync(SlipwayClient admin, AgentCrew crew, bool counted)
    {
        crew.Close();
        await Task.Delay(3000); // polls already waiting (2 s) end before the batch exists
        var runs = options.BatchJobs / repos.JobsPerBatchRun;
        var jobs = runs * repos.JobsPerBatchRun;
        var ids = new List<long>();
        for (var i = 0; i < runs; i++) ids.Add((await admin.StartRunAsync("batch", "main", null)).Id);
        var list = string.Join(",", ids);
        await WaitForAsync(async () => await ScalarAsync($"SELECT COUNT(*) FROM jobs WHERE run_id IN ({list}) AND status = 'queued'") == jobs,
            "the batch queued");
        var finishedBefore = crew.Finished;
        await statements.ResetAsync();
        var cpu = counted ? new CpuMeter(nodes.Select(n => n.Pid ?? 0).ToList(), postmasterPid) : null;
        var openedAt = AgentCrew.NowMs();
        crew.Open();
        await WaitForAsync(() => Task.FromResult(crew.Finished - finishedBefore >= jobs), "the batch finished", TimeSpan.FromMinutes(10));
        var seconds = (crew.LastFinishMs - openedAt) / 1000.0;
        if (cpu is not null)
        {
            Console.WriteLine($"  {cpu.Stop()}");
            await statements.PrintAsync(database, jobs);
        }
        await WaitForAsync(async () => await ScalarAsync($"SELECT COUNT(*) FROM runs WHERE id IN ({list}) AND finished_at IS NULL") == 0,
            "the batch's runs finished");
        return (jobs, seconds);
    }

    private Task WaitIdleAsync() => WaitForAsync(async () => await ScalarAsync(
        "SELECT COUNT(*) FROM runs r JOIN projects p ON p.id = r.project_id WHERE p.name IN ('probe', 'batch') AND r.finished_at IS NULL") == 0,
        "earlier runs of the bench projects finished");

    private static async Task WaitForAsync(Func<Task<bool>> done, string what, TimeSpan? timeout = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await done())
        {
            if (watch.Elapsed > (timeout ?? TimeSpan.FromMinutes(3))) throw new TimeoutException($"waited too long for {what}");
            await Task.Delay(20);
        }
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
