using Microsoft.Extensions.Logging;
using Slipway.Core.Nodes;

namespace Slipway.Server.Runs;

/// <summary>
/// Background loop (every <see cref="ServerOptions.LeaseSweepInterval"/>, default a second): resolves jobs whose lease ran out (agent killed, network cut), so a job
/// is never left running without a live agent, and moves on the runs whose finished stage was never evaluated. Safe to run on several server nodes at once: the store's
/// updates are conditional.
/// </summary>
public sealed class LeaseSweeper(JobLeaseStore leases, JobEvents events, NodeTaskStore nodeTasks, ServerOptions options, TimeProvider clock,
    ILogger<LeaseSweeper> log, DutyLeases duties) : PeriodicWorker(log, clock, duties, Duties.LeaseSweeping)
{
    /// <summary>How often the sweep also prunes the node tasks of long-ended jobs.</summary>
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(10);
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;

    protected override TimeSpan Interval => options.LeaseSweepInterval;
    protected override string Name => "lease sweep";

    protected override async Task PassAsync(CancellationToken ct)
    {
        var now = Clock.GetUtcNow();
        if (now >= _nextPrune)
        {
            _nextPrune = now + PruneEvery;
            if (await nodeTasks.PruneAsync((now - NodeTaskStore.Retention).ToUnixTimeMilliseconds()) is > 0 and var pruned)
                log.LogInformation("pruned {Count} node tasks of jobs that ended over {Retention} ago", pruned, NodeTaskStore.Retention);
        }
        var change = await leases.ExpireAsync(Clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (change.Jobs.Count > 0)
        {
            log.LogWarning("lease expired for jobs {Jobs}", string.Join(", ", change.Jobs));
            events.Finished(change);
        }
        // A finish whose node died before it evaluated the run (JobLeaseStore.FinishAsync): the run moves on from here.
        var moved = await leases.EvaluateFinishedStagesAsync(Clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (moved.Runs is { Count: > 0 } runs)
        {
            log.LogWarning("moved on runs {Runs}, whose finished stage had not been evaluated", string.Join(", ", runs));
            events.Finished(moved);
        }
    }
}
