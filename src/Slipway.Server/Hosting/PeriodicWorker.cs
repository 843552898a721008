using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Slipway.Server.Hosting;

/// <summary>
/// The one shape of the server's background loops (git poller, lease sweeper, release creator, deployment conductor,
/// auto-merger, heartbeat-denial flusher): a pass every <see cref="Interval"/> (from <see cref="ServerOptions"/>), a
/// failed pass logged and tried again at the next tick, never ending the loop. Each pass reads its work from the
/// database, so a restart (or another node) picks up where the last pass left off.
/// A worker given a duty (<see cref="Slipway.Core.Nodes.Duties"/>) runs its passes only while this node holds that duty's
/// lease (<see cref="DutyLeases"/>), each pass under the lease's <see cref="DutyFence"/>: every database write the pass makes
/// proves the node still holds it, so a duty never runs on two nodes at once, and a node that lost it cannot write as
/// if it had not. Workers without a duty (heartbeat-denial flusher, alert sender, the node's own heartbeat) run on every node.
/// </summary>
public abstract class PeriodicWorker(ILogger log, TimeProvider clock) : BackgroundService
{
    private readonly DutyLeases? _leases;
    private readonly string? _duty;

    /// <summary>A worker whose passes run only on the node holding <paramref name="duty"/>'s lease.</summary>
    protected PeriodicWorker(ILogger log, TimeProvider clock, DutyLeases leases, string duty) : this(log, clock)
    {
        _leases = leases;
        _duty = duty;
    }

    /// <summary>The server's clock (a fake one in tests), for passes that need the time.</summary>
    protected TimeProvider Clock { get; } = clock;

    /// <summary>The pause between the end of one pass and the start of the next.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>Whether the first pass runs at start (else after one interval: the poller, whose start-up fetch is elsewhere).</summary>
    protected virtual bool PassAtStart => true;

    /// <summary>What the log calls a failed pass ("deployment step", "lease sweep", ...).</summary>
    protected abstract string Name { get; }

    /// <summary>
    /// A task that completes when the next pass should not wait for the interval (something happened), or null. Taken
    /// before each pass, so what happens during a pass brings the next one forward.
    /// </summary>
    protected virtual Task? WakeUp() => null;

    /// <summary>One pass. Throwing logs a warning; the next pass comes at the next tick all the same.</summary>
    protected abstract Task PassAsync(CancellationToken ct);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!PassAtStart && !await PauseAsync(stoppingToken)) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before the pass, so what happens during it brings the next one forward: the worker's own wake-up, and
            // for a duty worker the moment this node takes the duty.
            var wake = WakeUp();
            var acquired = _duty is null ? null : _leases!.Acquired(_duty);
            try { await RunPassAsync(stoppingToken); }
            catch (DutyLostException e)
            {
                log.LogWarning("{Worker} stopped half-way: {Reason}", Name, e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "{Worker} failed; trying again in {Interval}", Name, Interval);
            }
            if (!await PauseAsync(stoppingToken, wake, acquired)) return;
        }
    }

    private async Task RunPassAsync(CancellationToken ct)
    {
        if (_duty is null)
        {
            await PassAsync(ct);
            return;
        }
        using var hold = _leases!.TryBeginPass(_duty);
        if (hold is null) return; // another node holds the duty (or this one drains): nothing to do here
        await DutyFence.RunUnderAsync(hold.Fence, () => PassAsync(ct));
    }

    private async Task<bool> PauseAsync(CancellationToken stoppingToken, Task? wake = null, Task? acquired = null)
    {
        try
        {
            // One flat WhenAny over whatever may end the pause: it unhooks itself from the others when the first completes.
            // (A WhenAny nested inside it would stay hooked onto long-lived tasks, one more every pass.)
            var delay = Task.Delay(Interval, Clock, stoppingToken);
            var ends = new[] { delay, wake, acquired }.OfType<Task>().ToArray();
            await (ends.Length == 1 ? delay : Task.WhenAny(ends));
            stoppingToken.ThrowIfCancellationRequested();
            return true;
        }
        catch (OperationCanceledException) { return false; }
    }
}
