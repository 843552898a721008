using Dapper;
using Prometheus;

namespace Slipway.Server.Hosting;

/// <summary>
/// Prometheus metrics. Counters and histograms are updated where things happen; gauges of queue and
/// agent state are read from the database just before each scrape (so they are right on every node).
/// Each server instance gets its own registry (tests start several servers in one process).
/// </summary>
public sealed class SlipwayMetrics
{
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();
    public Counter LogBytes { get; }
    public Histogram JobDuration { get; }
    public Counter IdleTrims { get; }
    public Counter IdleTrimmedBytes { get; }
    private readonly Gauge _jobs;
    private readonly Gauge _agents;

    public SlipwayMetrics(SqlDatabase db, OpenRequests openRequests, Nodes.NodeIdentity node)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        LogBytes = factory.CreateCounter("slipway_log_bytes_total", "Bytes of job log received from agents.");
        JobDuration = factory.CreateHistogram("slipway_job_duration_seconds", "Duration of finished job attempts.",
            new HistogramConfiguration { LabelNames = ["outcome"], Buckets = Histogram.ExponentialBuckets(0.01, 2, 20) });
        IdleTrims = factory.CreateCounter("slipway_idle_memory_trims_total", "Times the server gave its spare GC memory back to the OS when quiet.");
        IdleTrimmedBytes = factory.CreateCounter("slipway_idle_memory_trimmed_bytes_total", "GC memory given back to the OS by idle trims.");
        _jobs = factory.CreateGauge("slipway_jobs", "Jobs by state (queued, running).", "state");
        _agents = factory.CreateGauge("slipway_agents", "Agents by pool and state.", "pool", "state");
        // Per node: what a draining node still has in hand (scrapes are not counted) and whether it drains.
        var open = factory.CreateGauge("slipway_open_requests", "Requests this node is handling, but for long polls, followed logs and scrapes.");
        var draining = factory.CreateGauge("slipway_node_draining", "1 while this node drains (no new duties or jobs, /healthz 503), else 0.");
        Registry.AddBeforeCollectCallback(async ct =>
        {
            open.Set(openRequests.Count);
            draining.Set(node.Draining ? 1 : 0);
            await using var c = await db.OpenAsync(ct);
            var jobs = (await c.QueryAsync<(string Status, long N)>(
                "SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY status")).ToDictionary(r => r.Status, r => r.N);
            _jobs.WithLabels("queued").Set(jobs.GetValueOrDefault("queued"));
            _jobs.WithLabels("running").Set(jobs.GetValueOrDefault("running"));
            foreach (var (pool, status, n) in await c.QueryAsync<(string, string, long)>("SELECT pool, status, COUNT(*) FROM agents WHERE status <> 'removed' GROUP BY pool, status"))
                _agents.WithLabels(pool, status).Set(n);
        });
    }
}
