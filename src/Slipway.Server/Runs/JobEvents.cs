
namespace Slipway.Server.Runs;

/// <summary>Fans out the wake-ups that follow a job change: new work for pools, log followers to close.</summary>
public sealed class JobEvents(WorkSignal signal, LogStore logs)
{
    public void Finished(LeaseChange change)
    {
        foreach (var pool in change.Pools) signal.Signal(WorkSignal.Pool(pool));
        // Runs moved on by the sweep: one may be a deployment's, whose conductor should look now, not at its next tick.
        if (change.Runs is { Count: > 0 }) signal.Signal(WorkSignal.Deployments);
        foreach (var job in change.Jobs)
        {
            signal.Signal(WorkSignal.Log(job));
            signal.Signal(WorkSignal.Job(job)); // also drops the key a renew long-poll registered
            logs.Forget(job);
        }
    }
}
