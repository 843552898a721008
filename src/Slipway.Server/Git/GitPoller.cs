using Microsoft.Extensions.Logging;
using Slipway.Core.Nodes;

namespace Slipway.Server.Git;

/// <summary>Background loop: every <see cref="ServerOptions.PollInterval"/>, checks every project for new commits.</summary>
public sealed class GitPoller(ProjectStore projects, ChangeDetector detector, ServerOptions options, TimeProvider clock, ILogger<GitPoller> log, DutyLeases leases)
    : PeriodicWorker(log, clock, leases, Duties.GitPolling)
{
    protected override TimeSpan Interval => options.PollInterval;
    protected override bool PassAtStart => false;
    protected override string Name => "polling";

    protected override async Task PassAsync(CancellationToken ct)
    {
        foreach (var project in await projects.ListAsync())
        {
            // One project's unreachable repository must not stop the others being polled.
            try { await detector.CheckAsync(project, ct); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "polling {Project} failed", project.Name);
            }
        }
    }
}
