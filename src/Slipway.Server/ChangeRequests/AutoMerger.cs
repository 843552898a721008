using Microsoft.Extensions.Logging;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.ChangeRequests;
using Slipway.Core.Nodes;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Merges change requests set to merge by themselves (the talk's "auto merge for development branches") as soon as
/// every rule holds: looks at them every <see cref="ServerOptions.AutoMergeInterval"/>, skipping cheaply until the head commit's run has
/// succeeded, then merges through <see cref="ChangeRequestService.MergeAsync"/> in the name of the user who set it,
/// who must still be enabled and hold cr.merge on the project. What still blocks it is shown on the change request.
/// Each merge is audited as the system acting for that user.
/// </summary>
public sealed class AutoMerger(ChangeRequestStore store, ChangeRequestService service, ProjectStore projects, RunStore runs, UserStore users,
    Authenticator authenticator, AuditLog audit, ServerOptions options, TimeProvider clock, ILogger<AutoMerger> log, DutyLeases leases) : PeriodicWorker(log, clock, leases, Duties.AutoMerging)
{
    protected override TimeSpan Interval => options.AutoMergeInterval;
    protected override string Name => "auto-merge pass";
    protected override Task PassAsync(CancellationToken ct) => MergeReadyAsync(ct);

    public async Task MergeReadyAsync(CancellationToken ct)
    {
        foreach (var row in await store.AutoMergeCandidatesAsync())
        {
            var newest = (await runs.ForCommitAsync(row.ProjectId, row.HeadSha, 1)).FirstOrDefault();
            if (ChangeRequestService.PipelineOf(newest) != HeadPipeline.Succeeded)
            {
                await NoteAsync(row, newest is null ? "waiting for a run of the head commit" : $"waiting for run #{newest.Number} to succeed ({newest.Status})");
                continue;
            }
            var project = await projects.GetAsync(row.ProjectId);
            if (project is null) continue;
            var by = row.AutoMergeBy!;
            var user = await users.FindAsync(by);
            if (user is null || user.IsDisabled
                || !(await authenticator.UserAsync(user, null, null, null)).Permissions.CanOnProject(Actions.ChangeRequestMerge, project.Name))
            {
                await NoteAsync(row, $"{by}, who set auto-merge, may no longer merge in '{project.Name}'; set it again");
                continue;
            }
            var strategy = MergeStrategies.Parse(row.AutoMergeStrategy);
            try
            {
                // Judge the rules on the mirror as it is first: a change request waiting for approval costs no fetch
                // from the origin every second. The merge itself fetches and checks them all again.
                if ((await service.GatherAsync(project, row, ct: ct)).Unmet(strategy) is { Count: > 0 } unmet)
                {
                    await NoteAsync(row, new MergeBlockedException(row.Subject, unmet).Message);
                    continue;
                }
                var (merged, _) = await service.MergeAsync(project, row.Number, by, strategy, ct);
                await audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.ChangeRequestMerge,
                    $"project:{project.Name} cr:{row.Number}", AuditOutcomes.Succeeded,
                    $"change request #{row.Number} merged automatically for {by} ({merged.MergeStrategy}) into {merged.TargetBranch} as {merged.MergeCommit![..12]}"));
                log.LogInformation("auto-merged change request #{Number} of {Project}", row.Number, project.Name);
            }
            catch (Exception e) when (e is MergeBlockedException or ConflictException or ChangeRequestTransitionException or GitException)
            {
                await NoteAsync(row, e.Message);
            }
        }
    }

    /// <summary>Shows why the change request has not merged yet; written only when the reason changed (this runs every second).</summary>
    private Task NoteAsync(ChangeRequestRow row, string reason) =>
        row.AutoMergeError == reason ? Task.CompletedTask : store.SetAutoMergeErrorAsync(row.Id, reason);
}
