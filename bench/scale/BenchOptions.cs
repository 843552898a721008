namespace Slipway.Bench.Scale;

/// <summary>The bench's command line: --projects 20 --runs 100000 --deployments 10000 --audit 500000 --agents 100 --jobs 2000 --jobs-per-run 50 --pool 6 --pool-of-two 3 --warmup-batches 2 ...</summary>
public sealed record BenchOptions(HistoryShape Shape, int Agents, int BatchJobs, int JobsPerRun, int LatencyRuns, int Warmup, int Timed, int Repetitions, int PoolSize, int PoolOfTwo, int WarmupBatches)
{
    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, int>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--")) throw new ArgumentException($"expected --name value, got '{args[i]}'");
            values[args[i][2..]] = int.Parse(args[i + 1]);
        }
        int Get(string name, int fallback) => values.TryGetValue(name, out var v) ? v : fallback;
        return new BenchOptions(
            new HistoryShape(Get("projects", 20), Get("runs", 100_000), Get("deployments", 10_000), Get("audit", 500_000)),
            Get("agents", 100), Get("jobs", 2000), Get("jobs-per-run", 50), Get("latency-n", 50), Get("warmup", 30), Get("timed", 200), Get("reps", 1), Get("pool", 6),
            // Two nodes share the database's capacity: half the connections each unless told otherwise (docs/performance.md).
            Get("pool-of-two", (Get("pool", 6) + 1) / 2), Get("warmup-batches", 2));
    }
}
