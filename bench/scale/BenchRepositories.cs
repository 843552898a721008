using Slipway.Testing;

namespace Slipway.Bench.Scale;

/// <summary>
/// The git repositories the bench's projects build: "probe" has one job (latency), "batch" <see cref="JobsPerBatchRun"/>
/// in one stage (throughput). The seeded projects point at the probe repository with its real head, so the git poller
/// finds nothing new.
/// </summary>
public sealed class BenchRepositories(int jobsPerBatchRun) : IDisposable
{
    public int JobsPerBatchRun { get; } = jobsPerBatchRun;
    public GitRepository Probe { get; } = Create(Pipeline(1));
    public GitRepository Batch { get; } = Create(Pipeline(jobsPerBatchRun));

    public static string Pipeline(int jobs) =>
        "stages:\n  - name: all\n    jobs:\n" +
        string.Concat(Enumerable.Range(1, jobs).Select(i => $"      - {{ name: j{i:D3}, run: \"true\", pool: {DispatchScenario.Pool} }}\n"));

    private static GitRepository Create(string pipeline)
    {
        var repo = GitRepository.Create("main");
        repo.WriteFile(".slipway.yml", pipeline);
        repo.Commit("initial");
        return repo;
    }

    public void Dispose()
    {
        Probe.Dispose();
        Batch.Dispose();
    }
}
