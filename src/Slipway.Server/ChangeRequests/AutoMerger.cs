using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.ChangeRequests;
using Slipway.Server.Access;
using Slipway.Server.Api;
using Slipway.Server.Audit;
using Slipway.Server.Git;
using Slipway.Server.Storage;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Merges change requests set to merge by themselves (the talk's "auto merge for development branches") as soon as
/// every rule holds: looks at them every <see cref="Interval"/>, skipping cheaply until the head commit's run has
/// succeeded, then merges through <see cref="ChangeRequestService.MergeAsync"/> in the name of the user who set it,
/// who must still be enabled and hold cr.merge on the project. What still blocks it is shown on the change request.
/// Each merge is audited as the system acting for that user.
/// </summary>
public sealed class AutoMerger(ChangeRequestStore store, ChangeRequestService service, ProjectStore projects, RunStore runs, UserStore users,
    Authenticator authenticator, AuditLog audit, ILogger<AutoMerger> log) : BackgroundService
{
    public static TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await MergeReadyAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { log.LogWarning(e, "auto-merge pass failed; trying again"); }
            try { await Task.Delay(Interval, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    public async Task MergeReadyAsync(CancellationToken ct)
    {
        var candidates = await store.AutoMergeCandidatesAsync();
        if (candidates.Count == 0) return;
        var byId = (await projects.ListAsync()).ToDictionary(p => p.Id);
        foreach (var row in candidates)
        {
            var project = byId.GetValueOrDefault(row.ProjectId);
            if (project is null) continue;
            var newest = (await runs.ForCommitAsync(row.ProjectId, row.HeadSha, 1)).FirstOrDefault();
            if (ChangeRequestService.PipelineOf(newest) != HeadPipeline.Succeeded)
            {
                await store.SetAutoMergeErrorAsync(row.Id, newest is null ? "waiting for a run of the head commit" : $"waiting for run #{newest.Number} to succeed ({newest.Status})");
                continue;
            }
            var by = row.AutoMergeBy!;
            var user = await users.FindAsync(by);
            if (user is null || user.IsDisabled
                || !(await authenticator.UserAsync(user, null, null, null)).Permissions.CanOnProject(Actions.ChangeRequestMerge, project.Name))
            {
                await store.SetAutoMergeErrorAsync(row.Id, $"{by}, who set auto-merge, may no longer merge in '{project.Name}'; set it again");
                continue;
            }
            try
            {
                var (merged, _) = await service.MergeAsync(project, row.Number, by, MergeStrategies.Parse(row.AutoMergeStrategy), ct);
                await audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.ChangeRequestMerge,
                    $"project:{project.Name} cr:{row.Number}", AuditOutcomes.Succeeded,
                    $"change request #{row.Number} merged automatically for {by} ({merged.MergeStrategy}) into {merged.TargetBranch} as {merged.MergeCommit![..12]}"));
                log.LogInformation("auto-merged change request #{Number} of {Project}", row.Number, project.Name);
            }
            catch (Exception e) when (e is MergeBlockedException or ConflictException or ChangeRequestTransitionException or GitException)
            {
                await store.SetAutoMergeErrorAsync(row.Id, e.Message);
            }
        }
    }
}
