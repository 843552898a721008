using Microsoft.Extensions.Logging;

namespace Slipway.Server.Agents;

/// <summary>
/// Folds the refusals of an agent's heartbeat calls (poll, lease renewal, log lines: <c>agent.heartbeat</c>) into the
/// audit log at most once per window (a minute) per key — the credential sent, or the caller and its address — instead of
/// one entry per call: an agent whose credential was revoked polls from every slot, renews and ships logs several times a
/// second, and each refusal used to be an entry of its own. The first refusal is written at once; the ones after it in the
/// window are counted and written as one entry when the window closes ("denied 240 times since 19:02:11 UTC"), even if
/// the refusals have stopped, and at shutdown; while they go on, each window writes one such entry. None is lost.
/// Thread-safe; the windows are closed by this hosted service's loop.
/// </summary>
public sealed class HeartbeatDenials(AuditLog audit, ServerOptions options, TimeProvider clock, ILogger<HeartbeatDenials> log) : PeriodicWorker(log, clock)
{
    /// <summary>Beyond this many keys in one window (someone sending random credentials) each refusal is written on its own.</summary>
    private const int MaxKeys = 10_000;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);

    private sealed class Window(DateTimeOffset closesAt)
    {
        public DateTimeOffset ClosesAt = closesAt;
        public long Folded;
        public DateTimeOffset FirstFolded;
        public AuditRecord? Last;
    }

    /// <summary>Records a refused heartbeat: written now if it opens a window for <paramref name="key"/>, else counted.</summary>
    /// <param name="key">Who is refused: a hash of the credential sent, or the caller and its address; never a secret.</param>
    public Task RecordAsync(string key, AuditRecord record)
    {
        var now = Clock.GetUtcNow();
        lock (_lock)
        {
            if (_windows.TryGetValue(key, out var window))
            {
                if (window.Folded++ == 0) window.FirstFolded = now;
                window.Last = record;
                return Task.CompletedTask;
            }
            if (_windows.Count < MaxKeys) _windows[key] = new Window(now + options.AuditDenialWindow);
        }
        return audit.RecordAsync(record);
    }

    /// <summary>A tenth of the window (0.1-1 s): a closed window is written soon after it closes.</summary>
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(Math.Clamp(options.AuditDenialWindow.TotalMilliseconds / 10, 100, 1000));
    protected override bool PassAtStart => false;
    protected override string Name => "writing folded heartbeat refusals";
    protected override Task PassAsync(CancellationToken ct) => FlushAsync(all: false);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(all: true); // the counts of open windows are written, not lost with the process
    }

    /// <summary>Writes the summary of every closed window (all of them at shutdown) that counted refusals; forgets quiet ones.</summary>
    private async Task FlushAsync(bool all)
    {
        var now = Clock.GetUtcNow();
        var due = new List<AuditRecord>();
        lock (_lock)
        {
            foreach (var (key, window) in _windows.ToList())
            {
                if (!all && window.ClosesAt > now) continue;
                if (window.Folded == 0) { _windows.Remove(key); continue; }
                var last = window.Last!;
                due.Add(last with
                {
                    Detail = $"{last.Detail}; denied {window.Folded} more time{(window.Folded == 1 ? "" : "s")} since " +
                             $"{window.FirstFolded.UtcDateTime:HH:mm:ss} UTC (refused heartbeats are written once a window of " +
                             $"{options.AuditDenialWindow.TotalSeconds:0} s per credential)",
                });
                // The window stays open while refusals go on, so a steady stream writes one entry per window.
                window.Folded = 0;
                window.ClosesAt = now + options.AuditDenialWindow;
            }
        }
        foreach (var record in due)
        {
            try { await audit.RecordAsync(record); }
            catch (Exception) when (!all) { } // the audit log refuses while the database is down: the next window tries again
        }
    }
}
