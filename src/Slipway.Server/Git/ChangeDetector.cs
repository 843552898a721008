using Microsoft.Extensions.Logging;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Git;

/// <summary>
/// Fetches a project's mirror and starts a run for every branch whose head is new or moved.
/// Used by the poller and the push webhook alike; the webhook's payload is only a hint to look now,
/// the mirror is the truth. Open change requests from a moved branch take its new head. For an external
/// repository, a protected branch that moved to a commit Slipway did not push (not a merge it made) is a
/// direct push Slipway could not stop: it is recorded (shown on the project page) and audited.
/// </summary>
public sealed class ChangeDetector(ProjectStore projects, MirrorDirectory mirrors, RunFactory runs, ChangeRequestLinker changeRequests,
    ChangeRequestStore changeRequestStore, GitCredentials credentials, MergesInFlight mergesInFlight, AuditLog audit, ServerOptions options, TimeProvider clock,
    ILogger<ChangeDetector> log)
{
    /// <param name="failOnFetchError">Throw (409) when the fetch fails instead of recording it: for a caller that must not go on with stale heads.</param>
    public async Task<int> CheckAsync(ProjectRow project, CancellationToken ct = default, bool failOnFetchError = false)
    {
        IReadOnlyDictionary<string, string> heads;
        try
        {
            var mirror = await mirrors.ReadyAsync(project, ct: ct);
            await mirror.FetchAsync(ct, credentials.For(project));
            heads = await mirror.HeadsAsync(ct);
        }
        catch (Exception e) when (e is GitException or InvalidOperationException)
        {
            log.LogWarning("fetch of {Project} failed: {Error}", project.Name, e.Message);
            await projects.RecordFetchErrorAsync(project.Id, e.Message, clock.GetUtcNow().ToUnixTimeMilliseconds());
            if (failOnFetchError) throw new ConflictException($"cannot fetch the repository of '{project.Name}', so its branches' heads are not known now: {e.Message}");
            return 0;
        }
        var changed = await projects.MoveHeadsAsync(project.Id, heads, clock.GetUtcNow().ToUnixTimeMilliseconds());
        // The heads are recorded now: from here on a cancelled request (a webhook sender giving up) must not
        // lose the runs, and one branch's failure must not lose the others'.
        foreach (var (branch, old, head) in changed)
        {
            try { await runs.StartAsync(project, branch, head, "push", CancellationToken.None); }
            catch (Exception e) { log.LogError(e, "could not start a run of {Project} {Branch} at {Head}", project.Name, branch, head); }
            try { await changeRequests.SourceMovedAsync(project, branch, head, CancellationToken.None); }
            catch (Exception e) { log.LogError(e, "could not move the change requests of {Project} {Branch} to {Head}", project.Name, branch, head); }
        }
        if (changed.Count > 0 && !IsHosted(project)) await FlagDirectPushesAsync(project, changed);
        return changed.Count;
    }

    /// <summary>True for a project whose repository Slipway serves (pushes to its protected branches are refused, not detected).</summary>
    public bool IsHosted(ProjectRow project) =>
        Path.IsPathFullyQualified(project.RepoUrl) && Path.GetFullPath(project.RepoUrl).StartsWith(Path.GetFullPath(ProjectService.HostedRoot(options)) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private async Task FlagDirectPushesAsync(ProjectRow project, IReadOnlyList<(string Branch, string? Old, string Head)> changed)
    {
        var protectedBranches = (await projects.ProtectedBranchesAsync(project.Id)).Append(project.DefaultBranch).ToHashSet(StringComparer.Ordinal);
        foreach (var (branch, old, head) in changed.Where(c => protectedBranches.Contains(c.Branch)))
        {
            if (await mergesInFlight.ContainsAsync(project.Id, head) || await changeRequestStore.IsSlipwayMergeAsync(project.Id, head)) continue;
            await projects.RecordDirectPushAsync(project.Id, branch, old, head, clock.GetUtcNow().ToUnixTimeMilliseconds());
            var detail = $"DIRECT PUSH: protected branch '{branch}' of external repository moved {(old is null ? "(new branch)" : old[..12])} -> {head[..12]} " +
                         "without a merge by Slipway";
            await audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.RepoPush,
                $"project:{project.Name} branch:{branch}", AuditOutcomes.Failed, detail));
            log.LogWarning("{Project}: {Detail}", project.Name, detail);
        }
    }
}
