using Microsoft.Extensions.Logging;
using Slipway.Core.Nodes;

namespace Slipway.Server.Nodes;

/// <summary>
/// Keeps this node's duty leases (<see cref="Duties"/>): every <see cref="DutyLeaseRules.LookInterval"/> (a fifth of
/// <see cref="ServerOptions.DutyLeaseTime"/>) it reads every lease and the database's now, and acquires, renews or
/// releases each as <see cref="DutyLeaseRules.Decide"/> says. The workers that carry a duty ask <see cref="TryBeginPass"/>
/// before each pass and run it only under the returned fence.
/// </summary>
/// <remarks>
/// Leases are kept here, in one loop of their own, rather than by each worker between its passes: a pass can last longer
/// than a lease (the poller fetching every repository), and its lease must be renewed while it runs.
/// The time left on a lease is measured on this node's monotonic clock from before the read or write that set it, never
/// compared with this node's wall clock, so a skewed clock only ever makes the node give up early.
/// A draining node releases each duty once no pass of it runs (a pass under way finishes, its lease renewed until then)
/// and starts none. At shutdown (this service stops after the workers, being registered before them) every held lease is
/// released so another node takes over at its next look rather than after the lease time.
/// Thread-safe: the workers call <see cref="TryBeginPass"/> from their own loops.
/// </remarks>
public sealed class DutyLeases(NodeStore store, NodeIdentity node, ServerOptions options, TimeProvider clock, ILogger<DutyLeases> log)
    : PeriodicWorker(log, clock)
{
    private sealed class Lease(long token, long deadline)
    {
        public long Token = token;
        /// <summary>When the lease ends at the latest, on <see cref="TimeProvider.GetTimestamp"/>'s clock.</summary>
        public long Deadline = deadline;
        public int Passes;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Lease> _held = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _acquired = new(StringComparer.Ordinal);

    /// <summary>
    /// Completes when this node next takes <paramref name="duty"/>: its worker starts a pass then rather than an interval
    /// later (at start-up the workers' first look comes before this service's first acquisition).
    /// </summary>
    public Task Acquired(string duty)
    {
        lock (_lock)
        {
            if (!_acquired.TryGetValue(duty, out var signal))
                _acquired[duty] = signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return signal.Task;
        }
    }

    protected override TimeSpan Interval => DutyLeaseRules.LookInterval(options.DutyLeaseTime);
    protected override string Name => "keeping duty leases";
    protected override Task? WakeUp() => node.Changed(); // a drain releases at once
    protected override Task PassAsync(CancellationToken ct) => LookAsync();

    /// <summary>The fence to run a pass of <paramref name="duty"/> under, or null when this node does not hold it, drains,
    /// or has less than <see cref="DutyLeaseRules.SafetyMargin"/> of the lease left. Dispose the answer when the pass ends.</summary>
    public PassHold? TryBeginPass(string duty)
    {
        if (node.Draining) return null;
        lock (_lock)
        {
            if (!_held.TryGetValue(duty, out var held)) return null;
            if (!DutyLeaseRules.MayStartPass(Clock.GetElapsedTime(Clock.GetTimestamp(), held.Deadline), options.DutyLeaseTime)) return null;
            held.Passes++;
            return new PassHold(this, new DutyFence(duty, node.Name, held.Token));
        }
    }

    /// <summary>The duties this node believes it holds, with their tokens (the list page reads the database instead).</summary>
    public IReadOnlyDictionary<string, long> HeldDuties()
    {
        lock (_lock) return _held.ToDictionary(h => h.Key, h => h.Value.Token, StringComparer.Ordinal);
    }

    private void EndPass(DutyFence fence)
    {
        lock (_lock)
            if (_held.TryGetValue(fence.Duty, out var held) && held.Token == fence.Token) held.Passes--;
    }

    private async Task LookAsync()
    {
        var lease = options.DutyLeaseTime;
        var asked = Clock.GetTimestamp();
        var (leases, now) = await store.LeasesAsync();
        var draining = node.Draining;
        foreach (var duty in Duties.All)
        {
            var row = leases.FirstOrDefault(l => l.Duty == duty);
            var step = DutyLeaseRules.Decide(row, node.Name, now, lease, draining);
            // "Held by this node" means by this process, under the token it took: a lease under this name that it does not
            // know (a second process misconfigured with the same name took it) is left alone, never adopted or renewed,
            // so even two processes sharing a name never run a duty both at once. (A restart released the old process's.)
            if (step is DutyStep.Keep or DutyStep.Renew or DutyStep.Release && !HoldsToken(duty, row!.FencingToken))
                step = DutyStep.Standby;
            if (step == DutyStep.Release && Running(duty)) // let the pass under way finish under a live lease
                step = row!.ExpiresAt - now < lease.TotalMilliseconds / 2 ? DutyStep.Renew : DutyStep.Keep;
            switch (step)
            {
                case DutyStep.Acquire:
                    var before = Clock.GetTimestamp();
                    if (await store.AcquireAsync(duty, node.Name, lease) is { } token)
                    {
                        Set(duty, token, Deadline(before, lease));
                        SignalAcquired(duty);
                        log.LogInformation("node {Node} took duty {Duty} (fencing token {Token})", node.Name, duty, token);
                    }
                    else Drop(duty, "another node took it first");
                    break;
                case DutyStep.Renew:
                    var renewing = Clock.GetTimestamp();
                    if (await store.RenewAsync(duty, node.Name, row!.FencingToken, lease)) Set(duty, row.FencingToken, Deadline(renewing, lease));
                    else Drop(duty, "its lease ran out before it was renewed");
                    break;
                case DutyStep.Keep:
                    Set(duty, row!.FencingToken, Deadline(asked, TimeSpan.FromMilliseconds(row.ExpiresAt - now))); // the database's word on the time left
                    break;
                case DutyStep.Release:
                    await ReleaseAsync(duty, row!.FencingToken, "draining");
                    break;
                default:
                    Drop(duty, row?.Holder is { } other ? $"{(other == node.Name ? "another process named" : "node")} {other} holds it" : "it is free and this node is draining");
                    break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var (duty, token) in HeldDuties())
        {
            try { await ReleaseAsync(duty, token, "shutting down"); }
            catch (Exception e) { log.LogWarning(e, "duty {Duty} not released at shutdown; it passes to another node when its lease runs out", duty); }
        }
    }

    private async Task ReleaseAsync(string duty, long token, string why)
    {
        lock (_lock) _held.Remove(duty); // no pass starts from here on
        if (await store.ReleaseAsync(duty, node.Name, token))
            log.LogInformation("node {Node} released duty {Duty} ({Why})", node.Name, duty, why);
    }

    private bool HoldsToken(string duty, long token)
    {
        lock (_lock) return _held.TryGetValue(duty, out var held) && held.Token == token;
    }

    private bool Running(string duty)
    {
        lock (_lock) return _held.TryGetValue(duty, out var held) && held.Passes > 0;
    }

    private long Deadline(long from, TimeSpan left) => from + (long)(left.TotalSeconds * Clock.TimestampFrequency);

    private void Set(string duty, long token, long deadline)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(duty, out var held) && held.Token == token) held.Deadline = deadline;
            else _held[duty] = new Lease(token, deadline);
        }
    }

    private void SignalAcquired(string duty)
    {
        TaskCompletionSource? fired;
        lock (_lock)
            _acquired.Remove(duty, out fired);
        fired?.TrySetResult();
    }

    private void Drop(string duty, string why)
    {
        bool had;
        lock (_lock) had = _held.Remove(duty);
        if (had) log.LogWarning("node {Node} lost duty {Duty}: {Why}", node.Name, duty, why);
    }

    /// <summary>A pass under way: holds the duty's release back until it ends.</summary>
    public sealed class PassHold(DutyLeases owner, DutyFence fence) : IDisposable
    {
        private int _ended;
        public DutyFence Fence { get; } = fence;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) owner.EndPass(Fence);
        }
    }
}
