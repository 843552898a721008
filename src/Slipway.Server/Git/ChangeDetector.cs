using Microsoft.Extensions.Logging;
using Slipway.Server.Scheduling;
using Slipway.Server.Storage;

namespace Slipway.Server.Git;

/// <summary>
/// Fetches a project's mirror and starts a run for every branch whose head is new or moved.
/// Used by the poller and the push webhook alike; the webhook's payload is only a hint to look now,
/// the mirror is the truth.
/// </summary>
public sealed class ChangeDetector(ProjectStore projects, MirrorDirectory mirrors, RunFactory runs, TimeProvider clock, ILogger<ChangeDetector> log)
{
    public async Task<int> CheckAsync(ProjectRow project, CancellationToken ct = default)
    {
        var mirror = mirrors.For(project.Name);
        IReadOnlyDictionary<string, string> heads;
        try
        {
            await mirror.FetchAsync(ct);
            heads = await mirror.HeadsAsync(ct);
        }
        catch (GitException e)
        {
            log.LogWarning("fetch of {Project} failed: {Error}", project.Name, e.Message);
            await projects.RecordFetchErrorAsync(project.Id, e.Message, clock.GetUtcNow().ToUnixTimeMilliseconds());
            return 0;
        }
        var changed = await projects.UpdateHeadsAsync(project.Id, heads, clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var (branch, head) in changed)
            await runs.StartAsync(project, branch, head, "push", ct);
        return changed.Count;
    }
}
