using Slipway.Agent.Protocol;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution;

/// <summary>
/// Keeps a job's lease alive: one renew call after another, each held open by the server for a third of
/// the lease (so cancellation arrives at once, and a dead agent is noticed within the lease).
/// Network errors are retried until the lease would have run out. With <paramref name="renewAfterCancel"/> (a rolling
/// deployment, which finishes its running batch after a cancel rather than leave servers drained) the lease is kept
/// after the cancel arrived too, until the job ends.
/// </summary>
public sealed class LeaseRenewal(IAgentProtocol client, JobLease lease, bool renewAfterCancel = false) : IDisposable
{
    private readonly TaskCompletionSource _cancel = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();

    public Task CancelAsked => _cancel.Task;
    public bool LeaseLost { get; private set; }

    public void Start(CancellationToken ct)
    {
        var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        _ = Task.Run(() => LoopAsync(linked.Token), CancellationToken.None);
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        var wait = TimeSpan.FromSeconds(Math.Max(1, lease.LeaseSeconds / 3));
        var lastOk = DateTimeOffset.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var answer = await client.RenewAsync(lease, wait, ct);
                lastOk = DateTimeOffset.UtcNow;
                if (answer.Cancel)
                {
                    _cancel.TrySetResult();
                    if (!renewAfterCancel) return;
                    await Task.Delay(wait, ct); // the server answers at once once a cancel is asked: renew at a third of the lease
                }
            }
            catch (LeaseLostException) { LeaseLost = true; return; }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception)
            {
                if (DateTimeOffset.UtcNow - lastOk > TimeSpan.FromSeconds(lease.LeaseSeconds)) { LeaseLost = true; return; }
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
