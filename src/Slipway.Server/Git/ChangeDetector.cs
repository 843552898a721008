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
        // The heads are recorded now: from here on a cancelled request (a webhook sender giving up) must not
        // lose the runs, and one branch's failure must not lose the others'.
        foreach (var (branch, head) in changed)
        {
            try { await runs.StartAsync(project, branch, head, "push", CancellationToken.None); }
            catch (Exception e) { log.LogError(e, "could not start a run of {Project} {Branch} at {Head}", project.Name, branch, head); }
        }
        return changed.Count;
    }
}
