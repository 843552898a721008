using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Deployments;

/// <summary>
/// What people ask of deployments, whichever door they come through (the API, a web form, the CLI over the API): deploy,
/// promote, roll back, approve, reject, cancel. Finds the project and the deployment, checks the caller's permission on
/// the environment, runs the workflow (<see cref="DeploymentService"/>: rules, approvals, freezes, transitions) and writes
/// the audit entry of the outcome, refusals included. Endpoints and pages only translate their input and output.
/// </summary>
public sealed class DeploymentCommands(ProjectStore projects, DeploymentStore deployments, DeploymentService service, EnvironmentStore environments,
    TargetStore targets, DeploymentJobs jobs, RunStore runs, RunService runService, Agents.PoolPresence presence, WorkSignal signal, DatabaseLocks locks,
    TimeProvider clock)
{
    /// <summary>
    /// Puts back in rotation the targets deployment <paramref name="number"/> left out of it (failed ones stay in maint by
    /// design; a lost agent can leave one drained), after a person has looked: a run on the environment's pool that sets
    /// each to ready on every load balancer and waits until it is UP. For those who may deploy to that environment.
    /// </summary>
    public async Task<RepairDto> RepairAsync(Actor actor, string projectName, long number)
    {
        var (project, d) = await FindAsync(projectName, number);
        RequireOnEnvironment(actor.User, Actions.DeploymentStart, project.Name, d.Environment);
        var scope = $"project:{project.Name} env:{d.Environment} deployment:{number}";
        try { await service.RequireDeployerAsync(d, DeploymentService.InitiatorOf(actor.User, project.Name, d.Environment), "repair its deployments"); }
        catch (PolicyRefusedException e)
        {
            await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Denied, scope, $"repair of {d.Subject} refused: {e.Message}");
            throw;
        }
        // One repair decision at a time across all nodes: two requests at once must not both pass the "environment busy" check.
        await using (await locks.AcquireAsync("deployment-repair"))
        {
            var results = await targets.ResultsAsync(d.Id);
            var (toRepair, refusal) = Core.Deployments.Rollout.RepairRules.Plan(number, Core.Deployments.DeploymentTransitions.Parse(d.State),
                results.Select(r => new Core.Deployments.Rollout.RepairRules.TargetRecord(r.Target, r.State, r.BalancerState)).ToList(),
                await deployments.StartedAfterAsync(d.EnvironmentId, d.Id), await deployments.EnvironmentBusyAsync(d.EnvironmentId));
            if (refusal is not null)
            {
                await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Denied, scope, $"repair of {d.Subject} refused: {refusal}");
                throw new ConflictException(refusal);
            }
            var environment = (await environments.GetAsync(d.EnvironmentId))!;
            // A repair waiting for an agent that never comes would hold the environment (no deployment starts meanwhile).
            if (!await presence.HasAgentAsync(environment.Pool))
                throw new ConflictException($"no agent of pool {environment.Pool} is connected to carry out the repair; start one first");
            var (plan, included) = await jobs.BuildRepairAsync(d, environment, project.DefaultBranch, toRepair);
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var (runId, pools) = await runs.CreateAsync(new NewRun(d.ProjectId, project.DefaultBranch, d.CommitSha, $"repair of deployment #{number}",
                $"repair of deployment #{number} on {d.Environment} by {actor.User.Username}", plan, [], DeploymentId: d.Id), now);
            // The conductor (on any node) may have started a deployment here between the check and the run: then the
            // repair gives way, before any agent is woken for it.
            if ((await deployments.InStatesAsync(Core.Deployments.DeploymentState.Running)).FirstOrDefault(r => r.EnvironmentId == d.EnvironmentId) is { } started)
            {
                await runService.CancelDeploymentRunAsync(runId);
                throw new ConflictException($"deployment #{started.Number} started in '{d.Environment}' meanwhile; the repair was not started");
            }
            toRepair = included;
            foreach (var target in toRepair)
            {
                var before = results.First(r => r.Target == target);
                await targets.ReportAsync(d.Id, target, Contracts.Agents.TargetStates.Restoring, null, "repair",
                    $"repair requested by {actor.User.Username} (was {before.State}, left in {before.BalancerState}{(before.Reason is { } r ? ": " + r : "")})", now, final: false);
            }
            foreach (var pool in pools) signal.Signal(WorkSignal.Pool(pool));
            await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Succeeded, scope,
                $"repair of {d.Subject} requested as run {runId}: {string.Join(", ", toRepair)} to be put back in rotation");
            return new RepairDto(project.Name, number, d.Environment, runId, toRepair);
        }
    }

    public async Task<DeploymentRow> DeployAsync(Actor actor, string projectName, DeployRequest? request)
    {
        if (request?.Version is null || request.Environment is null) throw new ArgumentException("the body must be {\"version\": \"1.4.7\", \"environment\": \"staging\"}");
        var project = await projects.RequireAsync(projectName);
        var environment = await service.EnvironmentAsync(project, request.Environment);
        return await RequestAsync(actor, project, environment, DeploymentService.KindDeploy, request.EmergencyReason, () => service.ReleaseAsync(project, request.Version));
    }

    /// <summary>Ships to <c>request.Environment</c> what its source environment runs; a version given must be that one (the preview the user saw).</summary>
    public async Task<DeploymentRow> PromoteAsync(Actor actor, string projectName, DeployRequest? request)
    {
        if (request?.Environment is null) throw new ArgumentException("the body must be {\"environment\": \"production\"}");
        var project = await projects.RequireAsync(projectName);
        var environment = await service.EnvironmentAsync(project, request.Environment);
        return await RequestAsync(actor, project, environment, DeploymentService.KindPromote, request.EmergencyReason, async () =>
        {
            var release = await service.PromotionReleaseAsync(project, environment);
            if (request.Version is not null && request.Version != release.Version)
                throw new ConflictException($"lifecycle: the release to promote to '{environment.Name}' is {release.Version}, not {request.Version}");
            return release;
        });
    }

    /// <summary>Back to the release before the current one, or to a version given.</summary>
    public async Task<DeploymentRow> RollbackAsync(Actor actor, string projectName, RollbackRequest? request)
    {
        if (request?.Environment is null) throw new ArgumentException("the body must be {\"environment\": \"production\", \"version\": null}");
        var project = await projects.RequireAsync(projectName);
        var environment = await service.EnvironmentAsync(project, request.Environment);
        return await RequestAsync(actor, project, environment, DeploymentService.KindRollback, request.EmergencyReason, async () =>
            request.Version is null ? await service.RollbackReleaseAsync(project, environment) : await service.ReleaseAsync(project, request.Version));
    }

    /// <summary>
    /// A person's request for the release <paramref name="choose"/> picks. A second promotion or rollback of a release already on
    /// its way there is refused (two clicks, or two people at once: checked again in the write, so one goes through). An
    /// explicit deploy is not refused so: it asks for that release to run again, and queues behind the one on its way. Nor
    /// is an emergency: the one on its way may be held by a freeze or by gates that fail since, and restoring service comes
    /// first. The permission on the environment is checked before anything about it is read; refusals are audited.
    /// </summary>
    private async Task<DeploymentRow> RequestAsync(Actor actor, ProjectRow project, EnvironmentRow environment, string kind, string? emergencyReason,
        Func<Task<ReleaseRow>> choose)
    {
        var target = $"project:{project.Name} env:{environment.Name}";
        ReleaseRow? release = null;
        DeploymentRow d;
        try
        {
            var initiator = DeploymentService.InitiatorOf(actor.User, project.Name, environment.Name);
            DeploymentService.RequireStart(initiator, project.Name, environment.Name);
            release = await choose();
            d = await service.RequestAsync(project, environment, release, initiator, kind, emergencyReason,
                refuseOnItsWay: kind != DeploymentService.KindDeploy && string.IsNullOrWhiteSpace(emergencyReason));
        }
        catch (Exception e) when (e is PolicyRefusedException or ConflictException)
        {
            await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Denied, release is null ? target : $"{target} release:{release.Version}", $"{kind}: {e.Message}");
            throw;
        }
        await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Succeeded, $"{target} release:{release.Version}",
            (d.EmergencyReason is { } reason ? $"EMERGENCY DEPLOYMENT DURING FREEZE: {reason}; " : "") +
            $"{kind} #{d.Number}: {release.Version} to '{environment.Name}' ({d.State})");
        return d;
    }

    public async Task<DeploymentRow> ApproveAsync(Actor actor, string projectName, long number, string? comment)
    {
        var (project, d) = await FindAsync(projectName, number);
        RequireOnEnvironment(actor.User, Actions.DeploymentApprove, project.Name, d.Environment);
        var target = $"project:{project.Name} env:{d.Environment} deployment:{number}";
        var updated = await service.ApproveAsync(project, d, DeploymentService.InitiatorOf(actor.User, project.Name, d.Environment), comment,
            // No override reason: the approval rules of a deployment hold for everyone (policy.override does not lift them).
            decision => PolicyGate.EnforceAsync(actor, Actions.DeploymentApprove, decision, null, target));
        await actor.AuditAsync(Actions.DeploymentApprove, AuditOutcomes.Succeeded, target, $"{d.Subject} approved ({updated.State})");
        return updated;
    }

    public async Task<DeploymentRow> RejectAsync(Actor actor, string projectName, long number, string? reason)
    {
        var (project, d) = await FindAsync(projectName, number);
        RequireOnEnvironment(actor.User, Actions.DeploymentApprove, project.Name, d.Environment);
        var updated = await service.RejectAsync(project, d, DeploymentService.InitiatorOf(actor.User, project.Name, d.Environment), reason);
        await actor.AuditAsync(Actions.DeploymentApprove, AuditOutcomes.Succeeded, $"project:{project.Name} env:{d.Environment} deployment:{number}",
            $"{d.Subject} rejected: {reason}");
        return updated;
    }

    public async Task<DeploymentRow> CancelAsync(Actor actor, string projectName, long number)
    {
        var (project, d) = await FindAsync(projectName, number);
        RequireOnEnvironment(actor.User, Actions.DeploymentStart, project.Name, d.Environment);
        var updated = await service.CancelAsync(d, DeploymentService.InitiatorOf(actor.User, project.Name, d.Environment));
        await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Succeeded, $"project:{project.Name} env:{d.Environment} deployment:{number}", $"{d.Subject} cancelled");
        return updated;
    }

    /// <summary>
    /// on_failure: pause — a deployer's decision for one paused target of a running rolling deployment: retry, skip or
    /// abort (<see cref="Core.Deployments.Rollout.TargetDecisions"/>). Applies to that target only; audited.
    /// </summary>
    public async Task<DeploymentTargetDto> DecideAsync(Actor actor, string projectName, long number, string target, string? decision)
    {
        if (string.IsNullOrEmpty(decision)) throw new ArgumentException("the body must be {\"decision\": \"retry\"} (retry, skip or abort)");
        if (Core.Deployments.Rollout.TargetRules.CheckName(target) is { } badName) throw new ArgumentException(badName);
        var (project, d) = await FindAsync(projectName, number);
        RequireOnEnvironment(actor.User, Actions.DeploymentStart, project.Name, d.Environment);
        var scope = $"project:{project.Name} env:{d.Environment} deployment:{number} target:{target}";
        try { await service.RequireDeployerAsync(d, DeploymentService.InitiatorOf(actor.User, project.Name, d.Environment), "decide for its targets"); }
        catch (PolicyRefusedException e)
        {
            await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Denied, scope, $"{decision} of {target} in {d.Subject} refused: {e.Message}");
            throw;
        }
        var row = (await targets.ResultsAsync(d.Id)).FirstOrDefault(r => r.Target == target);
        var refusal = Core.Deployments.Rollout.TargetDecisions.Refusal(number, Core.Deployments.DeploymentTransitions.Parse(d.State), target,
            row?.State, row?.Decision, row?.DecidedBy, decision);
        if (refusal is null && !await targets.DecideAsync(d.Id, target, decision, actor.User.Username))
            refusal = $"target {target} is no longer waiting for a decision";
        if (refusal is not null)
        {
            await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Denied, scope, $"{decision} of {target} in {d.Subject} refused: {refusal}");
            throw row is null ? new KeyNotFoundException(refusal) : new ConflictException(refusal);
        }
        signal.Signal(Agents.AgentProtocolApi.DecisionSignal(d.Id));
        await actor.AuditAsync(Actions.DeploymentStart, AuditOutcomes.Succeeded, scope,
            $"{decision} of paused target {target} in {d.Subject} (it failed: {row!.Reason})");
        var after = (await targets.ResultsAsync(d.Id)).First(r => r.Target == target);
        return new DeploymentTargetDto(after.Target, after.Batch, after.State, after.BalancerState, after.Step, after.Reason,
            UnixMs.To(after.StartedAt), UnixMs.To(after.FinishedAt), after.Decision is { } pending ? $"{pending} by {after.DecidedBy}" : null);
    }

    /// <summary>The endpoint checked the action on the project; a deployment's environment may narrow it (a grant scoped to staging).</summary>
    private static void RequireOnEnvironment(Principal.User user, string action, string project, string environment)
    {
        if (Authorizer.Decide(user, action, new Scope(project, environment)) is { Allowed: false, Reason: var reason })
            throw new PolicyRefusedException(reason!);
    }

    private async Task<(ProjectRow, DeploymentRow)> FindAsync(string projectName, long number)
    {
        var project = await projects.RequireAsync(projectName);
        return (project, await deployments.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{project.Name}' has no deployment {number}"));
    }
}
