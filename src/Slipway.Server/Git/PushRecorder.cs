using Microsoft.Extensions.Logging;

namespace Slipway.Server.Git;

/// <summary>
/// Records who pushed which commits into a hosted repository. A commit's author and committer are whatever the pusher
/// wrote (anyone can commit as "Build Bot" or as a colleague), so the segregation-of-duties rule cannot rest on them alone:
/// the commits a push brought in are stored with the user who pushed them, and nobody approves a change request holding a
/// commit they pushed (<see cref="Core.ChangeRequests.Reviews.MayGive"/>), nor the deployment of its merge.
/// Both steps run under the repository's lock, so "before" is exactly what the push found.
/// </summary>
public sealed class PushRecorder(PushedCommitStore store, TimeProvider clock, ILogger<PushRecorder> log)
{
    /// <summary>The tips of every ref before the push: what the push's commits are counted against.</summary>
    public static async Task<IReadOnlyList<string>> TipsAsync(string repository, TimeSpan timeout, CancellationToken ct) =>
        (await GitCli.OutputAsync(repository, ["for-each-ref", "--format=%(objectname)"], timeout, ct))
        .Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Stores the commits reachable from the refs this push set and from no ref before it. Only tips git accepted count
    /// (a refused ref's objects are nobody's commits). Never fails the push, which has happened: a failure is logged.
    /// </summary>
    public async Task RecordAsync(ProjectRow project, string pushedBy, string repository, IReadOnlyList<PushCommand> commands,
        IReadOnlyList<string> before, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            var proposed = commands.Select(c => c.New).Where(id => IsObjectId(id) && !PushCommand.IsZero(id)).ToHashSet(StringComparer.Ordinal);
            if (proposed.Count == 0) return;
            var accepted = (await TipsAsync(repository, timeout, ct)).Where(proposed.Contains).ToList();
            if (accepted.Count == 0) return;
            var shas = (await GitCli.OutputAsync(repository, ["rev-list", .. accepted, "--not", .. before, "--"], timeout, ct))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await store.RecordAsync(project.Id, pushedBy, shas, clock.GetUtcNow().ToUnixTimeMilliseconds());
        }
        catch (Exception e) when (e is GitException or System.Data.Common.DbException or InvalidOperationException)
        {
            log.LogError(e, "could not record the commits {User} pushed into {Project}", pushedBy, project.Name);
        }
    }

    private static bool IsObjectId(string id) => id.Length is 40 or 64 && id.All(Uri.IsHexDigit);
}
