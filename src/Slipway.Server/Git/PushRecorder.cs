using Microsoft.Extensions.Logging;
using Slipway.Core.Audit;

namespace Slipway.Server.Git;

/// <summary>
/// Records who pushed which commits into a hosted repository. A commit's author and committer are whatever the pusher
/// wrote (anyone can commit as "Build Bot" or as a colleague), so the segregation-of-duties rule cannot rest on them alone:
/// the commits a push brought in are stored with the user who pushed them, and nobody approves a change request holding a
/// commit they pushed (<see cref="Core.ChangeRequests.Reviews.MayGive"/>), nor the deployment of its merge.
/// Both steps run under the repository's lock, so "before" is exactly what the push found.
/// </summary>
public sealed class PushRecorder(PushedCommitStore store, Audit.AuditLog audit, TimeProvider clock, ILogger<PushRecorder> log)
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
            // The tips go through standard input: a repository may have more refs than a command line holds.
            var revisions = string.Join('\n', accepted) + "\n" + string.Concat(before.Select(b => "^" + b + "\n"));
            var shas = (await GitCli.OutputAsync(repository, ["rev-list", "--stdin"], timeout, ct, input: revisions))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await store.RecordAsync(project.Id, pushedBy, shas, clock.GetUtcNow().ToUnixTimeMilliseconds());
        }
        catch (Exception e)
        {
            // The push has happened and cannot be taken back here: say so loudly, in the log and the audit log, so that an
            // approval of these commits can be questioned.
            log.LogError(e, "could not record the commits {User} pushed into {Project}", pushedBy, project.Name);
            await audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Core.Access.Actions.RepoPush, $"project:{project.Name}",
                AuditOutcomes.Failed, $"PUSH NOT ATTRIBUTED: the commits {pushedBy} pushed could not be recorded ({e.GetType().Name}: {e.Message}); " +
                "who pushed them is unknown to the approval rules"));
        }
    }

    private static bool IsObjectId(string id) => id.Length is 40 or 64 && id.All(Uri.IsHexDigit);
}
