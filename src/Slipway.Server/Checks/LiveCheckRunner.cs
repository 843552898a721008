using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Slipway.Core.Checks;
using Slipway.Core.Nodes;

namespace Slipway.Server.Checks;

/// <summary>
/// Runs live checks that are due (<see cref="CheckSchedule"/>), every <see cref="ServerOptions.LiveCheckInterval"/>. A pass
/// only starts checks: each runs in the background with its own timeout, and a check still running is not started again,
/// so a slow address never holds up the others or the server. The result is recorded, judged (<see cref="CheckVerdict"/>)
/// and acted on by <see cref="CheckResponder"/>. A duty: a check started on a node that then loses the duty records nothing
/// (its writes carry the pass's fence, and a result not recorded is not acted on) and is run again by the new holder: a
/// failover can probe a check twice.
/// </summary>
public sealed class LiveCheckRunner(CheckStore checks, HttpProbe probe, ScriptProbe scripts, CheckResponder responder, ServerOptions options, TimeProvider clock,
    ILogger<LiveCheckRunner> log, DutyLeases leases) : PeriodicWorker(log, clock, leases, Duties.LiveChecks)
{
    private readonly ConcurrentDictionary<long, bool> _running = new();

    protected override TimeSpan Interval => options.LiveCheckInterval;
    protected override string Name => "live checks";

    protected override async Task PassAsync(CancellationToken ct)
    {
        var now = Clock.GetUtcNow();
        foreach (var check in await checks.AllAsync())
        {
            if (_running.ContainsKey(check.Id) || !check.Schedule.IsDue(check.Created, check.LastRun, now)) continue;
            if (!_running.TryAdd(check.Id, true)) continue;
            _ = Task.Run(async () =>
            {
                try { await RunAsync(check, ct); }
                catch (DutyLostException)
                {
                    // The check carries its pass's fence: this node lost the duty while it ran (drained, cut off, taken
                    // over), so its result is not recorded; the node now holding the duty runs the check itself.
                    log.LogInformation("live check {Check} of {Project}/{Environment}: result dropped, this node no longer holds the live-checks duty",
                        check.Id, check.Project, check.Environment);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    log.LogWarning(e, "live check {Check} of {Project}/{Environment} failed to run", check.Id, check.Project, check.Environment);
                }
                finally { _running.TryRemove(check.Id, out _); }
            }, CancellationToken.None);
        }
    }

    private async Task RunAsync(CheckRow check, CancellationToken ct)
    {
        var outcome = check.Kind is "script" or "release" ? await scripts.ProbeAsync(check, ct) : await probe.ProbeAsync(check, ct);
        if (outcome is null) await checks.TouchAsync(check.Id, Clock.GetUtcNow().ToUnixTimeMilliseconds()); // nothing deployed there yet
        else await responder.RespondAsync(check, outcome, Clock.GetUtcNow());
    }
}
