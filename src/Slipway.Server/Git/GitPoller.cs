using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Server.Hosting;
using Slipway.Server.Storage;

namespace Slipway.Server.Git;

/// <summary>Background loop: every <see cref="ServerOptions.PollInterval"/>, checks every project for new commits.</summary>
public sealed class GitPoller(ProjectStore projects, ChangeDetector detector, ServerOptions options, ILogger<GitPoller> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            IReadOnlyList<Storage.ProjectRow> all;
            try { all = await projects.ListAsync(); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "polling: cannot list projects");
                continue;
            }
            foreach (var project in all)
            {
                try { await detector.CheckAsync(project, stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "polling {Project} failed", project.Name);
                }
            }
        }
    }
}
