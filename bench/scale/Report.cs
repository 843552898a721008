namespace Slipway.Bench.Scale;

/// <summary>
/// The summary table and issue 15's comparisons. Ratios are taken between scenarios of the same repetition (measured
/// minutes apart on the same machine), never against figures from another run.
/// </summary>
public static class Report
{
    /// <summary>Seeded may be at most this much worse than empty (latency higher, throughput lower).</summary>
    private const double AllowedSlowdown = 0.10;

    public static void Print(BenchOptions options, IReadOnlyList<EndpointFigures> pages, IReadOnlyList<DispatchFigures> dispatch, string verify)
    {
        var shape = options.Shape;
        Console.WriteLine("\n=== summary");
        Console.WriteLine($"history: {shape.Runs} runs, {shape.Deployments} deployments, {shape.AuditEntries} audit entries, {shape.Projects} projects; " +
                          $"{options.Agents} simulated agents, batches of {options.BatchJobs} jobs in runs of {options.JobsPerRun}; load now {Load.Average()}");
        Console.WriteLine("\n| page or call (seeded database) | p50 ms | p95 ms | max ms | target p95 ≤ 50 ms |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var p in pages)
            Console.WriteLine($"| {p.Endpoint.Name} `{p.Endpoint.Path}` | {p.Latency.P50:F1} | {p.Latency.P95:F1} | {p.Latency.Max:F1} | {p.Verdict} |");

        Console.WriteLine("\n| dispatch scenario | queued → claimed p50 / p95 ms | request → claimed p50 / p95 ms | throughput jobs/s |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var d in dispatch)
            Console.WriteLine($"| {d.Label} | {d.QueuedToClaimed.P50:F1} / {d.QueuedToClaimed.P95:F1} | {d.RequestToClaimed.P50:F1} / {d.RequestToClaimed.P95:F1} | " +
                              $"{d.JobsPerSecond:F1} ({d.Jobs} in {d.Seconds:F2} s) |");

        Console.WriteLine("\ncomparisons (same repetition):");
        for (var i = 0; i + 2 < dispatch.Count; i += 3)
        {
            var (empty, seeded, two) = (dispatch[i], dispatch[i + 1], dispatch[i + 2]);
            var throughput = seeded.JobsPerSecond / empty.JobsPerSecond;
            var latency50 = seeded.QueuedToClaimed.P50 / empty.QueuedToClaimed.P50;
            var latency95 = seeded.QueuedToClaimed.P95 / empty.QueuedToClaimed.P95;
            var request50 = seeded.RequestToClaimed.P50 / empty.RequestToClaimed.P50;
            var nodes = two.JobsPerSecond / seeded.JobsPerSecond;
            Console.WriteLine($"  rep {i / 3 + 1}: throughput seeded/empty {throughput:F2} ({Verdict(throughput >= 1 - AllowedSlowdown)}, target ≥ 0.90); " +
                              $"latency queued→claimed seeded/empty p50 {latency50:F2}, p95 {latency95:F2} " +
                              $"({Verdict(latency50 <= 1 + AllowedSlowdown)} on p50, target ≤ 1.10); request→claimed p50 {request50:F2}; " +
                              $"two nodes/one {nodes:F2} ({Verdict(nodes >= 1.0)}, target ≥ 1.00)");
        }
        var ratios = Enumerable.Range(0, dispatch.Count / 3).Select(r => dispatch[3 * r + 2].JobsPerSecond / dispatch[3 * r + 1].JobsPerSecond).Order().ToList();
        if (ratios.Count > 0)
        {
            // One repetition's ratio moves ±10 % with this machine's noise; the median of several is the figure to quote.
            var median = ratios.Count % 2 == 1 ? ratios[ratios.Count / 2] : (ratios[ratios.Count / 2 - 1] + ratios[ratios.Count / 2]) / 2;
            Console.WriteLine($"  two nodes/one over {ratios.Count} repetition(s): median {median:F2}, range {ratios[0]:F2}-{ratios[^1]:F2} " +
                              $"({Verdict(median >= 1.0)} on the median, target ≥ 1.00); connections per node: {options.PoolSize} with one node, " +
                              $"{options.PoolOfTwo} with two; every scenario on freshly started nodes after {options.WarmupBatches} warm-up batch(es)");
        }
        var failedPages = pages.Where(p => p.Endpoint.Target && !p.Passed).Select(p => p.Endpoint.Name).ToList();
        Console.WriteLine($"  pages: {(failedPages.Count == 0 ? "all within 50 ms at p95 (PASS)" : "over 50 ms at p95: " + string.Join(", ", failedPages) + " (FAIL)")}");
        Console.WriteLine($"  audit chain: {verify}");
    }

    private static string Verdict(bool passed) => passed ? "PASS" : "FAIL";
}
