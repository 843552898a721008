using Slipway.Core.Access;
using Slipway.Core.Deployments;
using Slipway.Core.Environments;
using Slipway.Core.Gates;
using Slipway.Core.Policies;

namespace Slipway.Server.Deployments;

/// <summary>Who asks for a deployment: a user (with their permissions and the roles that apply here) or the system.</summary>
public sealed record Initiator(string Name, Permissions? Permissions, IReadOnlySet<string> Roles)
{
    public static readonly Initiator System = new("slipway", null, new HashSet<string>());
    public bool IsSystem => Permissions is null;
}

/// <summary>
/// Requests, approves, rejects and cancels deployments; promotions and rollbacks are requests of a chosen release.
/// Every refusal names its rule. The conductor (<see cref="DeploymentConductor"/>) starts queued deployments one at
/// a time per environment and records their outcome.
/// </summary>
public sealed class DeploymentService(EnvironmentStore environments, DeploymentStore deployments, ReleaseStore releases,
    RunService runService, MirrorDirectory mirrors, GateService gates, GateStore gateResults, WorkSignal signal, TimeProvider clock)
{
    public const string KindDeploy = "deploy";
    public const string KindPromote = "promote";
    public const string KindRollback = "rollback";
    public const string KindAuto = "auto";

    /// <summary>The initiator for a signed-in user: their permissions and the roles granted on this project and environment.</summary>
    public static Initiator InitiatorOf(Principal.User user, string project, string environment) =>
        new(user.Username, user.Permissions, user.Permissions.Grants
            .Where(g => (g.Project is null || g.Project == project) && (g.Environment is null || g.Environment == environment))
            .Select(g => g.Role).ToHashSet(StringComparer.Ordinal));

    /// <summary>
    /// Whether <paramref name="initiator"/> may ask for deployments to <paramref name="environment"/> and cancel them:
    /// <c>deployment.start</c> granted on that environment and a place on its deployer list. <see cref="RequestAsync"/> and
    /// <see cref="CancelAsync"/> refuse by these same checks; the pages offer their deploy, promote, roll-back and cancel
    /// buttons by this.
    /// </summary>
    public static bool MayDeploy(Initiator initiator, string project, EnvironmentSettings environment) =>
        initiator.IsSystem || (initiator.Permissions!.Can(Actions.DeploymentStart, new Scope(project, environment.Name))
                               && DeploymentRules.MayDeploy(environment, initiator.Name, initiator.Roles));

    /// <summary>
    /// Whether <paramref name="approver"/> may decide on deployments to <paramref name="environment"/> at all:
    /// <c>deployment.approve</c> there and the environment's approver role when it names one (what <see cref="RejectAsync"/>
    /// requires; <see cref="ApproveAsync"/> adds the rules about who asked for and who wrote the changes).
    /// </summary>
    public static bool MayDecide(Initiator approver, string project, EnvironmentSettings environment) =>
        !approver.IsSystem && approver.Permissions!.Can(Actions.DeploymentApprove, new Scope(project, environment.Name))
                           && (environment.ApproverRole is not { } role || approver.Roles.Contains(role));

    /// <summary>Refuses (403, rule <c>deployer</c>) a person without <c>deployment.start</c> on the environment.</summary>
    public static void RequireStart(Initiator initiator, string project, string environment)
    {
        if (!initiator.IsSystem && !initiator.Permissions!.Can(Actions.DeploymentStart, new Scope(project, environment)))
            throw new PolicyRefusedException($"deployer: {initiator.Name} may not deploy to '{environment}' of '{project}'");
    }

    public async Task<EnvironmentRow> EnvironmentAsync(ProjectRow project, string name) =>
        await environments.FindAsync(project.Id, name) ?? throw new KeyNotFoundException($"project '{project.Name}' has no environment '{name}'");

    public async Task<ReleaseRow> ReleaseAsync(ProjectRow project, string version) =>
        await releases.FindAsync(project.Id, version) ?? throw new KeyNotFoundException($"project '{project.Name}' has no release {version}");

    /// <summary>
    /// Creates a deployment of <paramref name="release"/> to <paramref name="environment"/>: awaiting approval when the
    /// environment requires approvals, else queued. Refused (403 for who, 409 for when) naming every rule that refuses it.
    /// </summary>
    /// <param name="refuseOnItsWay">Refuse it (409, rule <c>lifecycle</c>) while a deployment of that release to that environment
    /// awaits approval, is queued or runs: it would only ask approvers to approve the same thing twice, and run it twice.
    /// Checked in the write, so that two requests at once cannot both go through.</param>
    public async Task<DeploymentRow> RequestAsync(ProjectRow project, EnvironmentRow environment, ReleaseRow release, Initiator initiator, string kind,
        string? emergencyReason = null, long? rollbackOf = null, bool refuseOnItsWay = false)
    {
        var settings = environment.Settings;
        var scope = new Scope(project.Name, environment.Name);
        RequireStart(initiator, project.Name, environment.Name);
        var lifecycle = (await environments.ListAsync(project.Id)).Select(e => e.Settings).ToList();
        var succeededOn = await deployments.SucceededOnAsync(release.Id);
        var freezes = (await environments.FreezesAsync(environment.Id)).Select(f => f.Window).ToList();
        var now = clock.GetUtcNow();
        var mayBreakGlass = !initiator.IsSystem && initiator.Permissions!.Can(Actions.DeployBreakGlass, scope);
        var (refusals, emergency) = DeploymentRules.CheckRequest(
            new DeploymentRequest(initiator.Name, initiator.Roles, release.Version, settings, mayBreakGlass, emergencyReason), lifecycle, succeededOn, freezes, now);
        if (initiator.IsSystem) refusals = refusals.Where(r => r.Rule != DeploymentRules.Deployer).ToList();
        if (kind == KindRollback)
        {
            // A rollback returns to a release that succeeded here before: the lifecycle has been walked already.
            refusals = refusals.Where(r => r.Rule != DeploymentRules.LifecycleOrder).ToList();
            if (!succeededOn.Contains(environment.Name))
                refusals = [.. refusals, new DeploymentRefusal("rollback-target", $"release {release.Version} never succeeded on '{environment.Name}', so it cannot be rolled back to")];
        }
        if (refusals.Count > 0)
        {
            var message = $"cannot deploy {release.Version} to '{environment.Name}': " + string.Join("; ", refusals);
            throw refusals.Any(r => r.Rule == DeploymentRules.Deployer) ? new PolicyRefusedException(message) : new ConflictException(message);
        }
        // Quality gates (server-side, per environment): a failed gate refuses; an inconclusive one holds the deployment for
        // an approver's decision. A rollback returns to a release that was good here before and is never held by gates.
        IReadOnlyList<GateResult> judged = [];
        string? gateHold = null;
        // A person rolling back to a release that was rejected since is refused too; the system's automatic rollback is
        // not (restoring service comes first, and the rejected release was what ran there before).
        if (kind == KindRollback && !initiator.IsSystem && await gates.StandingRejectionAsync(release.Id) is { } rejected)
            throw new ConflictException($"cannot roll '{environment.Name}' back to {release.Version}: gates: the release was rejected ({rejected})");
        if (kind != KindRollback)
        {
            var judgement = await gates.JudgeAsync(project, environment, release);
            RefuseUnmet(judgement, $"cannot deploy {release.Version} to '{environment.Name}'");
            judged = judgement.Results;
            if (judgement.Open is { Count: > 0 } open) gateHold = string.Join("; ", open);
        }
        // What it replaces (until it starts and the current release is read again): an automatic rollback undoes the failed
        // release it answers, anything else the environment's current release.
        var replaces = rollbackOf is { } failedId ? (await deployments.GetAsync(failedId))?.ReleaseId
            : (await deployments.CurrentAsync(project.Id)).FirstOrDefault(d => d.EnvironmentId == environment.Id)?.ReleaseId;
        // An automatic rollback restores what was approved before; everything else waits for the environment's approvals.
        var state = (settings.RequiredApprovals > 0 && !(initiator.IsSystem && kind == KindRollback)) || gateHold is not null
            ? DeploymentState.AwaitingApproval : DeploymentState.Queued;
        DeploymentRow created;
        try
        {
            created = await deployments.CreateAsync(new NewDeployment(project.Id, environment.Id, release.Id, replaces, kind, state, initiator.Name,
                emergency ? emergencyReason!.Trim() : null, rollbackOf, now.ToUnixTimeMilliseconds(), gateHold, refuseOnItsWay));
        }
        catch (OnItsWayException e) { throw new ConflictException(OnItsWay(environment, release, e.Pending)); }
        if (judged.Count > 0) await gateResults.RecordResultsAsync(created.Id, judged);
        signal.Signal(WorkSignal.Deployments); // a queued one starts at once, not at the conductor's next tick
        return created;
    }

    /// <summary>
    /// The release a promotion to <paramref name="target"/> takes: the current one of the environment before it. Refused
    /// (409, rule <c>lifecycle</c>) when that release is already current on the target: a promotion that changes nothing
    /// would only ask approvers to approve it. (One already on its way is refused by <see cref="RequestAsync"/>.)
    /// </summary>
    public async Task<ReleaseRow> PromotionReleaseAsync(ProjectRow project, EnvironmentRow target)
    {
        var all = (await environments.ListAsync(project.Id)).Select(e => e.Settings).ToList();
        var current = await deployments.CurrentAsync(project.Id);
        var source = Lifecycle.PromotionSource(all, target.Name, current.ToDictionary(d => d.Environment, d => d.Version))
                     ?? throw new ConflictException($"lifecycle: no environment before '{target.Name}' has a successful release to promote");
        var release = (await releases.GetAsync(current.Single(d => d.Environment == source.Name).ReleaseId))!;
        if (current.FirstOrDefault(d => d.EnvironmentId == target.Id) is { } there && there.ReleaseId == release.Id)
            throw new ConflictException($"lifecycle: {release.Version} is already the current release of '{target.Name}' " +
                                        $"(deployment #{there.Number}); there is nothing to promote from '{source.Name}'");
        return release;
    }

    private static string OnItsWay(EnvironmentRow target, ReleaseRow release, DeploymentRow pending) =>
        $"lifecycle: {release.Version} is already on its way to '{target.Name}': deployment #{pending.Number} is {pending.State.Replace('_', ' ')} " +
        $"(cancel #{pending.Number} to ask again)";

    /// <summary>
    /// The release a rollback of <paramref name="environment"/> returns to: the newest one older than the current release that
    /// succeeded there. Older, not merely earlier: after a rollback from 1.0.4 to 1.0.3, another rollback goes on to 1.0.2,
    /// never forward to the 1.0.4 it has just left.
    /// </summary>
    public async Task<ReleaseRow> RollbackReleaseAsync(ProjectRow project, EnvironmentRow environment)
    {
        var history = (await deployments.ListAsync(project.Id, environment.Id, limit: 500)).Where(d => d.State == "succeeded")
            .OrderByDescending(d => d.FinishedAt).ThenByDescending(d => d.Id).ToList();
        var current = history.FirstOrDefault() ?? throw new ConflictException($"rollback-target: '{environment.Name}' has no successful deployment to roll back from");
        var previous = history.FirstOrDefault(d => d.ReleaseId < current.ReleaseId)
                       ?? throw new ConflictException($"rollback-target: '{environment.Name}' has had no release before {current.Version} to roll back to");
        return (await releases.GetAsync(previous.ReleaseId))!;
    }

    /// <summary>Refuses (409) while a sign-off rejection stands against the release or a gate failed, naming them.</summary>
    private static void RefuseUnmet(GateJudgement judgement, string what)
    {
        if (judgement.Rejection is { } rejection) throw new ConflictException($"{what}: gates: the release was rejected ({rejection})");
        if (judgement.Unmet is { Count: > 0 } unmet) throw new ConflictException($"{what}: gates not met: {string.Join("; ", unmet)}");
    }

    /// <summary>Approves; once enough distinct approvers agree, the deployment queues. Returns the updated row.</summary>
    public async Task<DeploymentRow> ApproveAsync(ProjectRow project, DeploymentRow deployment, Initiator approver, string? comment,
        Func<PolicyDecision, Task> enforce)
    {
        DeploymentTransitions.EnsureAwaitingDecision(deployment.Subject, deployment.StateValue, "approve");
        DeploymentTransitions.Ensure(deployment.Subject, deployment.StateValue, DeploymentState.Queued);
        var environment = (await environments.GetAsync(deployment.EnvironmentId))!;
        // An inconclusive gate is a person's call: it needs a reason (the approver role is checked with the approval).
        if (deployment.GateHold is { } hold && string.IsNullOrWhiteSpace(comment))
            throw new ArgumentException($"{deployment.Subject} is held by inconclusive gates ({hold}); approving it decides them, so give the reason as the comment");
        // The evidence may have changed while it waited: a rejection recorded meanwhile, or a gate that fails now, stops it.
        if (deployment.Kind != KindRollback && await releases.GetAsync(deployment.ReleaseId) is { } release)
            RefuseUnmet(await gates.JudgeAsync(project, environment, release), $"cannot approve {deployment.Subject}");
        await enforce(DeploymentRules.MayApprove(approver.Name, approver.Roles, deployment.Initiator, await AuthorsAndMergersAsync(project, deployment), environment.Settings));
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        switch (await deployments.AddApprovalAsync(deployment.Id, approver.Name, "approve", Clean(comment), environment.ApproverRole, now))
        {
            case ApprovalWrite.NotAwaiting: throw new DeploymentTransitionException($"cannot approve {deployment.Subject}: it no longer awaits approval");
            case ApprovalWrite.AlreadyGiven:
                throw new ConflictException($"{approver.Name} has already approved {deployment.Subject}: an approval counts once, " +
                                            $"so the {environment.Settings.RequiredApprovals} required approvals need other approvers");
        }
        var approvals = (await deployments.ApprovalsAsync(deployment.Id)).Where(a => a.Verdict == "approve")
            // Earlier approvers were checked for the approver role when they approved; an approval given under another
            // role (the environment's was changed since) no longer counts.
            .Where(a => environment.ApproverRole is null || a.ApproverRole == environment.ApproverRole)
            .Select(a => new Approval(a.Approver, a.Approver == approver.Name ? approver.Roles : RolesOf(environment), DateTimeOffset.FromUnixTimeMilliseconds(a.At), a.Comment))
            .ToList();
        if (DeploymentRules.Approved(approvals, environment.Settings) is PolicyDecision.Allowed
            && await deployments.MoveAsync(deployment.Id, DeploymentState.AwaitingApproval, DeploymentState.Queued, now))
            signal.Signal(WorkSignal.Deployments);
        return (await deployments.GetAsync(deployment.Id))!;
    }

    /// <summary>Rejects a deployment awaiting approval (with a reason); it never runs.</summary>
    public async Task<DeploymentRow> RejectAsync(ProjectRow project, DeploymentRow deployment, Initiator approver, string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new ArgumentException("a rejection needs a reason");
        DeploymentTransitions.EnsureAwaitingDecision(deployment.Subject, deployment.StateValue, "reject");
        DeploymentTransitions.Ensure(deployment.Subject, deployment.StateValue, DeploymentState.Rejected);
        // A veto is an approver's decision too: it needs the environment's approver role (but may come from anyone holding it).
        var environment = (await environments.GetAsync(deployment.EnvironmentId))!;
        if (environment.ApproverRole is { } role && !approver.Roles.Contains(role))
            throw new PolicyRefusedException($"{PolicyRules.DistinctApprovers}: rejecting a deployment to '{environment.Name}' needs the role '{role}', which {approver.Name} does not hold");
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (await deployments.AddApprovalAsync(deployment.Id, approver.Name, "reject", Clean(reason), environment.ApproverRole, now) != ApprovalWrite.Added
            || !await deployments.MoveAsync(deployment.Id, DeploymentState.AwaitingApproval, DeploymentState.Rejected, now, $"rejected by {approver.Name}: {Clean(reason)}"))
            throw new DeploymentTransitionException($"cannot reject {deployment.Subject}: it no longer awaits approval");
        return (await deployments.GetAsync(deployment.Id))!;
    }

    /// <summary>
    /// Refuses anyone but the environment's deployers: deciding for a paused target and repairing are deploying's other
    /// halves (a developer who may not deploy to production must not put its servers back or skip them either).
    /// </summary>
    public async Task RequireDeployerAsync(DeploymentRow deployment, Initiator by, string what)
    {
        var settings = (await environments.GetAsync(deployment.EnvironmentId))!.Settings;
        if (!by.IsSystem && !DeploymentRules.MayDeploy(settings, by.Name, by.Roles))
            throw new PolicyRefusedException($"{DeploymentRules.Deployer}: {by.Name} is not among those who may deploy to '{settings.Name}' " +
                                             $"({string.Join(", ", settings.Deployers)}), so may not {what}");
    }

    /// <summary>Cancels a deployment awaiting approval or queued at once; a running one is stopped through its run.</summary>
    public async Task<DeploymentRow> CancelAsync(DeploymentRow deployment, Initiator by)
    {
        // Stopping a deployment is deploying's other half: only the environment's deployers may (else a developer
        // could hold production back by cancelling every release to it).
        var settings = (await environments.GetAsync(deployment.EnvironmentId))!.Settings;
        if (!by.IsSystem && !DeploymentRules.MayDeploy(settings, by.Name, by.Roles))
            throw new PolicyRefusedException($"{DeploymentRules.Deployer}: {by.Name} is not among those who may deploy to '{settings.Name}' " +
                                             $"({string.Join(", ", settings.Deployers)}), so may not cancel its deployments");
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var state = deployment.StateValue;
        DeploymentTransitions.Ensure(deployment.Subject, state, DeploymentState.Cancelled);
        // A running deployment is stopped through its run (the conductor records the outcome); one still starting has no
        // run yet and is cancelled only if it still has none (else through the run it was given meanwhile).
        if (state == DeploymentState.Running
            && (deployment.RunId is not null
                || !await deployments.MoveAsync(deployment.Id, state, DeploymentState.Cancelled, now, $"cancelled by {by.Name} while starting", onlyWithoutRun: true)))
        {
            var runId = deployment.RunId ?? (await deployments.GetAsync(deployment.Id))?.RunId
                        ?? throw new DeploymentTransitionException($"{deployment.Subject} changed state meanwhile; look again");
            await runService.CancelDeploymentRunAsync(runId);
        }
        else if (state != DeploymentState.Running && !await deployments.MoveAsync(deployment.Id, state, DeploymentState.Cancelled, now, $"cancelled by {by.Name}"))
            throw new DeploymentTransitionException($"{deployment.Subject} changed state meanwhile; look again");
        return (await deployments.GetAsync(deployment.Id))!;
    }

    /// <summary>Who wrote or merged the changes the deployment brings to its environment: the change requests merged in that commit range.</summary>
    public async Task<IReadOnlyList<string>> AuthorsAndMergersAsync(ProjectRow project, DeploymentRow deployment)
    {
        var release = (await releases.GetAsync(deployment.ReleaseId))!;
        // What the deployment changes on its environment: everything since the release there now (a promotion may ship
        // several releases at once), or, for an older release (a rollback), that release's own changes.
        var currentId = await deployments.CurrentReleaseAsync(deployment.EnvironmentId);
        var since = currentId is { } id && id < release.Id ? await releases.GetAsync(id) : currentId is null ? null : await releases.PreviousAsync(project.Id, release.Id);
        IReadOnlyList<string> commits;
        try
        {
            commits = (await (await mirrors.ReadyAsync(project, release.CommitSha)).CommitsBetweenAsync(since?.CommitSha, release.CommitSha, max: 5000)).Select(c => c.Sha).ToList();
        }
        catch (Git.GitException e)
        {
            // Fail closed: an approval that cannot be checked is refused, not let through.
            throw new ConflictException($"{PolicyRules.ActorNotAuthor}: cannot read the changes in {release.Version} to check who wrote them ({e.Message}); try again");
        }
        return await deployments.AuthorsAndMergersAsync(project.Id, commits);
    }

    private static IReadOnlySet<string> RolesOf(EnvironmentRow environment) =>
        environment.ApproverRole is { } role ? new HashSet<string> { role } : new HashSet<string>();

    private static string Clean(string? text)
    {
        var t = (text ?? "").Replace("\r\n", "\n").Trim();
        if (t.Length > 2000 || t.Any(c => char.IsControl(c) && c != '\n')) throw new ArgumentException("the comment is longer than 2000 characters or contains a control character");
        return t;
    }
}
