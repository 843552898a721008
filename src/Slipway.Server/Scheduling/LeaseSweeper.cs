using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Server.Storage;

namespace Slipway.Server.Scheduling;

/// <summary>
/// Background loop (every second): resolves jobs whose lease ran out (agent killed, network cut), so a job
/// is never left running without a live agent. Safe to run on several server nodes at once: the store's
/// updates are conditional.
/// </summary>
public sealed class LeaseSweeper(JobLeaseStore leases, JobEvents events, TimeProvider clock, ILogger<LeaseSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var change = await leases.ExpireAsync(clock.GetUtcNow().ToUnixTimeMilliseconds());
                if (change.Jobs.Count == 0) continue;
                log.LogWarning("lease expired for jobs {Jobs}", string.Join(", ", change.Jobs));
                events.Finished(change);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "lease sweep failed");
            }
        }
    }
}
