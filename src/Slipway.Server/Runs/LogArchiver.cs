using Slipway.Core.Nodes;
using Microsoft.Extensions.Logging;

namespace Slipway.Server.Runs;

/// <summary>
/// Moves the logs of ended jobs from database chunks into the blob store (<see cref="LogStore.ArchiveAsync"/>), so the
/// database holds only the logs of jobs that run now. It waits until a log has been quiet for
/// <see cref="ServerOptions.LogArchiveQuiet"/>: notes written just after a job ends (metrics, lease loss) land first.
/// A duty (one node at a time); archiving is safe to race anyway (<see cref="LogStore.ArchiveAsync"/>).
/// </summary>
public sealed class LogArchiver(LogStore logs, ServerOptions options, ILogger<LogArchiver> log, TimeProvider clock, DutyLeases leases)
    : PeriodicWorker(log, clock, leases, Duties.LogArchiving)
{
    private readonly ILogger _log = log;

    protected override TimeSpan Interval => options.LogArchiveInterval;
    protected override string Name => "log archiving";

    protected override async Task PassAsync(CancellationToken ct)
    {
        foreach (var job in await logs.ArchivableAsync(options.LogArchiveQuiet, max: 50))
        {
            // One log that cannot be archived (its old archive lost, the bucket refusing it) must not hold up the others.
            try { await logs.ArchiveAsync(job, ct); }
            catch (Exception e) when (e is not (OperationCanceledException or DutyLostException))
            {
                _log.LogWarning("the log of job {Job} could not be archived (it stays in the database; tried again after the others): {Error}", job, e.Message);
                // To the back of the queue: the oldest logs come first, and one that always fails would otherwise be first
                // at every pass, and fifty of them would stop archiving altogether.
                await logs.PostponeArchiveAsync(job);
            }
        }
    }
}
