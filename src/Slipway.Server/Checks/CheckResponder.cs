using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Checks;
using Slipway.Core.Pipelines;

namespace Slipway.Server.Checks;

/// <summary>
/// What follows a check's result: it is recorded, judged against the watch window of the environment's latest succeeded
/// deployment (<see cref="CheckVerdict"/>), and acted on: an alert, or once per deployment an automatic rollback (when
/// the release's pipeline snapshot says <c>deploy: rollback: auto</c>) or an alert that a person must decide. The
/// once-per-deployment claim is a database row (<see cref="CheckStore.ClaimWindowAsync"/>), so two checks failing
/// together never ask for two rollbacks. Every action leaves an audit entry by the system.
/// </summary>
public sealed class CheckResponder(CheckStore checks, ProjectStore projects, EnvironmentStore environments, ReleaseStore releases, DeploymentStore deployments,
    DeploymentService deploymentService, AlertSender alerts, AuditLog audit)
{
    public async Task RespondAsync(CheckRow check, CheckOutcome outcome, DateTimeOffset at)
    {
        var latest = (await deployments.CurrentAsync(check.ProjectId)).FirstOrDefault(d => d.EnvironmentId == check.EnvironmentId);
        var watched = latest is null ? null : new WatchedDeployment(latest.Id, DateTimeOffset.FromUnixTimeMilliseconds(latest.FinishedAt ?? 0),
            await AutoRollbackAsync(latest), latest.Kind == DeploymentService.KindRollback, latest.PreviousReleaseId is not null,
            await checks.WindowHandledAsync(latest.Id));
        var verdict = CheckVerdict.Judge(outcome.Ok, check.LastOk, watched, check.Watch, at);
        await checks.RecordAsync(check.Id, outcome, verdict.InWindowOf, at.ToUnixTimeMilliseconds());
        switch (verdict.Action)
        {
            case CheckAction.Alert:
                await AuditAsync(check, AuditOutcomes.Succeeded, $"check {check.Name} of '{check.Environment}' {(outcome.Ok ? "recovered" : "failed")}: {outcome.Detail}" +
                                                                  (outcome.Ok || verdict.InWindowOf is not null ? "" : " (outside any watch window: alert only)"));
                await AlertAsync(check, verdict.Event!, latest, verdict.InWindowOf is not null, outcome.Detail, at);
                break;
            case CheckAction.RollBack when await checks.ClaimWindowAsync(latest!.Id, check.Id, "rollback", at.ToUnixTimeMilliseconds()):
                await RollBackAsync(check, latest, outcome, at);
                break;
            case CheckAction.AskPerson when await checks.ClaimWindowAsync(latest!.Id, check.Id, "ask-person", at.ToUnixTimeMilliseconds()):
                var why = latest.Kind == DeploymentService.KindRollback ? "it is itself a rollback"
                    : latest.PreviousReleaseId is null ? "there is no earlier release" : "the release's deploy section does not say rollback: auto";
                await AuditAsync(check, AuditOutcomes.Succeeded,
                    $"check {check.Name} failed in the watch window of {latest.Subject}: no automatic rollback ({why}); a person must decide: {outcome.Detail}");
                await AlertAsync(check, CheckVerdict.NeedsDecision, latest, true, $"{outcome.Detail}; no automatic rollback: {why}", at);
                break;
        }
    }

    private async Task RollBackAsync(CheckRow check, DeploymentRow watched, CheckOutcome outcome, DateTimeOffset at)
    {
        var project = (await projects.GetAsync(check.ProjectId))!;
        var environment = (await environments.GetAsync(check.EnvironmentId))!;
        (string Version, long Number) requested;
        try
        {
            var target = await deploymentService.RollbackReleaseAsync(project, environment);
            var rollback = await deploymentService.RequestAsync(project, environment, target, Initiator.System, DeploymentService.KindRollback, rollbackOf: watched.Id);
            requested = (target.Version, rollback.Number);
        }
        // Whatever stops it (a rule, a freeze, the database): the window is claimed, so this is the only word on it and a
        // person must hear it.
        catch (Exception e)
        {
            await AuditAsync(check, AuditOutcomes.Failed, $"automatic rollback after check {check.Name} failed in the watch window of {watched.Subject} not possible: {e.Message}");
            await AlertAsync(check, CheckVerdict.NeedsDecision, watched, true, $"{outcome.Detail}; automatic rollback not possible ({e.Message}): a person must decide", at);
            return;
        }
        // Outside the try: once requested the rollback is under way, and nothing after it may be reported as a rollback that
        // could not be made. The entry first (the audit log queues it), then the alert (which never throws).
        await audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.DeploymentStart,
            $"project:{project.Name} env:{environment.Name} deployment:{requested.Number}", AuditOutcomes.Succeeded,
            $"automatic rollback of '{environment.Name}' to {requested.Version} (deployment #{requested.Number}): check {check.Name} failed in the watch window of {watched.Subject}: {outcome.Detail}"));
        await AlertAsync(check, CheckVerdict.RolledBack, watched, true, $"{outcome.Detail}; rolling back to {requested.Version} (deployment #{requested.Number})", at);
    }

    private async Task<bool> AutoRollbackAsync(DeploymentRow d) =>
        await releases.GetAsync(d.ReleaseId) is { } release && PipelineParser.Parse(release.PipelineSnapshot).Pipeline?.Deploy is { AutoRollback: true };

    private Task AlertAsync(CheckRow check, string @event, DeploymentRow? latest, bool inWindow, string detail, DateTimeOffset at) =>
        alerts.QueueAsync(check.ProjectId, check.EnvironmentId, new CheckAlert(@event, check.Project, check.Environment, check.Id, check.Name,
            latest?.Version, inWindow ? latest?.Number : null, detail, at));

    private Task AuditAsync(CheckRow check, string outcome, string detail) =>
        audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.CheckManage,
            $"project:{check.Project} env:{check.Environment} check:{check.Id}", outcome, detail));
}
