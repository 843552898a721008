using Microsoft.Extensions.Logging;

namespace Slipway.Server.Runs;

/// <summary>
/// Background loop (every <see cref="ServerOptions.LeaseSweepInterval"/>, default a second): resolves jobs whose lease ran out (agent killed, network cut), so a job
/// is never left running without a live agent. Safe to run on several server nodes at once: the store's
/// updates are conditional.
/// </summary>
public sealed class LeaseSweeper(JobLeaseStore leases, JobEvents events, ServerOptions options, TimeProvider clock, ILogger<LeaseSweeper> log)
    : PeriodicWorker(log, clock)
{
    protected override TimeSpan Interval => options.LeaseSweepInterval;
    protected override string Name => "lease sweep";

    protected override async Task PassAsync(CancellationToken ct)
    {
        var change = await leases.ExpireAsync(Clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (change.Jobs.Count == 0) return;
        log.LogWarning("lease expired for jobs {Jobs}", string.Join(", ", change.Jobs));
        events.Finished(change);
    }
}
