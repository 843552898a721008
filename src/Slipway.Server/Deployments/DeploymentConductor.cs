using System.Data.Common;
using Microsoft.Extensions.Logging;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Deployments;
using Slipway.Core.Environments;
using Slipway.Core.Pipelines;
using Slipway.Core.Runs;
using Slipway.Core.Nodes;

namespace Slipway.Server.Deployments;

/// <summary>
/// Moves deployments along, every <see cref="ServerOptions.ConductorInterval"/>, from the database alone (so a restart or another node picks
/// up where it left): records the outcome of running ones from their run (a lost agent makes it <c>unknown</c>, never
/// a re-run elsewhere), rolls back automatically when the release's deploy section says so, starts the next queued
/// deployment of each free environment (oldest-first or newest-wins), and requests deployments of new releases to
/// auto-deploy environments. A deployment starts only after every artifact of its release matched its digest.
/// </summary>
public sealed class DeploymentConductor(DeploymentStore deployments, EnvironmentStore environments, ReleaseStore releases, ProjectStore projects,
    RunStore runs, RunService runService, ArtifactFiles files, DeploymentService service, DeploymentJobs jobs, TargetStore targets, WorkSignal signal, AuditLog audit, TimeProvider clock,
    ServerOptions options, ILogger<DeploymentConductor> log, DutyLeases leases) : PeriodicWorker(log, clock, leases, Duties.DeploymentConducting)
{
    protected override TimeSpan Interval => options.ConductorInterval;
    protected override string Name => "deployment step";
    protected override Task PassAsync(CancellationToken ct) => StepAsync(ct);
    protected override Task? WakeUp() => signal.WaitAsync(WorkSignal.Deployments);

    public async Task StepAsync(CancellationToken ct)
    {
        await FinishAsync();
        await StartQueuedAsync(ct);
        await AutoDeployAsync();
    }

    private long Now() => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task FinishAsync()
    {
        await targets.ResolveAbandonedRepairsAsync(Now());
        foreach (var d in await deployments.InStatesAsync(DeploymentState.Running))
        {
            if (d.RunId is not { } runId)
            {
                // Claimed but never given a run: the server stopped between the two writes. Nothing ran; free the lock.
                if (Now() - (d.StartedAt ?? d.RequestedAt) > options.DeploymentOrphanAfter.TotalMilliseconds
                    && await deployments.MoveAsync(d.Id, DeploymentState.Running, DeploymentState.Failed, Now(), "the server stopped before the deployment's run was created; nothing ran", onlyWithoutRun: true))
                    await RecordAsync(d, AuditOutcomes.Failed, $"{d.Subject} failed: the server stopped before its run was created; nothing ran");
                continue;
            }
            // The run's row first (cheap); its jobs only once it is over.
            if (await runs.GetRunRowAsync(runId) is not { } run || !StatusNames.Parse(run.Status).IsFinal()) continue;
            var details = (await runs.GetAsync(runId))!;
            var status = StatusNames.Parse(details.Run.Status);
            // A job whose agent was lost (lease expired, or the server restarted under its embedded agent) may have done
            // part of its work: the deployment is unknown, never failed (which would roll back over a half-done one).
            var lost = details.Jobs.FirstOrDefault(j => j.Failure == JobFailureKind.AgentLost);
            var (to, outcome) = status switch
            {
                // The outcome is evidence: it says "verified" only when a verify step ran and passed.
                ExecutionStatus.Succeeded => (DeploymentState.Succeeded,
                    details.Stages.Any(s => s.Name == DeploymentJobs.VerifyStage) ? "deployed and verified" : "deployed (no verify step)"),
                ExecutionStatus.Cancelled => (DeploymentState.Cancelled, "cancelled while running"),
                _ when lost is not null => (DeploymentState.Unknown, $"the deploy agent was lost mid-deployment ({lost.Name}: {lost.FailureReason}); what reached the servers is unknown, and nothing re-runs it without a human"),
                _ => (DeploymentState.Failed, Failure(details)),
            };
            // Per-target results of a rolling deployment: what the agent never reported as finished is unknown when it
            // was lost mid-way; targets it never reached were not touched. Settled before the deployment is final (the run
            // is over, so nothing reports any more, and both writes are idempotent): whoever reads a final deployment sees
            // its targets final too, and a server stopping between the writes leaves it running, to be settled again.
            if (to == DeploymentState.Unknown) await targets.MarkUnfinishedUnknownAsync(d.Id, "the deploy agent was lost while this target was being deployed", Now());
            await targets.MarkPendingNotRunAsync(d.Id, Now());
            if (!await deployments.MoveAsync(d.Id, DeploymentState.Running, to, Now(), outcome)) continue;
            await RecordAsync(d, to == DeploymentState.Succeeded ? AuditOutcomes.Succeeded : AuditOutcomes.Failed,
                $"{d.Subject} {to.Name()}: {outcome}");
            if (to == DeploymentState.Failed) await RollBackAsync(d);
        }
    }

    private static string Failure(RunDetails details)
    {
        var failed = details.Jobs.FirstOrDefault(j => j.Status == "failed");
        return failed is null ? "the deployment run failed" : $"{failed.Name} failed{(failed.FailureReason is { } r ? ": " + r : "")}";
    }

    /// <summary>After a failure: redeploy the environment's previous successful release when the release's deploy section says rollback: auto.</summary>
    private async Task RollBackAsync(DeploymentRow failed)
    {
        if (failed.Kind == DeploymentService.KindRollback || failed.PreviousReleaseId is null) return;
        var project = (await projects.GetAsync(failed.ProjectId))!;
        var release = (await releases.GetAsync(failed.ReleaseId))!;
        if (PipelineParser.Parse(release.PipelineSnapshot).Pipeline?.Deploy is not { AutoRollback: true }) return;
        var environment = (await environments.GetAsync(failed.EnvironmentId))!;
        var previous = (await releases.GetAsync(failed.PreviousReleaseId.Value))!;
        // A deployment queued (and free to start) or already running next replaces the failed release anyway; rolling
        // back first would only undo it afterwards. One held by a freeze does not count: the environment would stay broken.
        var frozen = Freezes.InForce((await environments.FreezesAsync(environment.Id)).Select(f => f.Window), Clock.GetUtcNow()) is not null;
        if ((await deployments.InStatesAsync(DeploymentState.Running, DeploymentState.Queued))
            .FirstOrDefault(d => d.EnvironmentId == failed.EnvironmentId && d.Id != failed.Id
                                 && (d.State == "running" || !frozen || d.EmergencyReason is not null)) is { } next)
        {
            await RecordAsync(failed, AuditOutcomes.Succeeded,
                $"no automatic rollback of '{environment.Name}' after {failed.Subject} failed: deployment #{next.Number} ({next.Version}) is queued next");
            return;
        }
        try
        {
            var rollback = await service.RequestAsync(project, environment, previous, Initiator.System, DeploymentService.KindRollback, rollbackOf: failed.Id);
            await RecordAsync(rollback, AuditOutcomes.Succeeded, $"automatic rollback of '{environment.Name}' to {previous.Version} after {failed.Subject} failed");
        }
        catch (Exception e) when (e is ConflictException or PolicyRefusedException)
        {
            await RecordAsync(failed, AuditOutcomes.Failed, $"automatic rollback after {failed.Subject} not possible: {e.Message}");
        }
    }

    private async Task StartQueuedAsync(CancellationToken ct)
    {
        var queued = await deployments.InStatesAsync(DeploymentState.Queued);
        if (queued.Count == 0) return;
        var running = (await deployments.InStatesAsync(DeploymentState.Running)).Select(d => d.EnvironmentId).ToHashSet();
        // A repair putting servers back in rotation holds the environment as a running deployment does.
        running.UnionWith(await deployments.RepairingEnvironmentsAsync());
        foreach (var group in queued.GroupBy(d => d.EnvironmentId).Where(g => !running.Contains(g.Key)))
        {
            var environment = (await environments.GetAsync(group.Key))!;
            // A freeze that began after a deployment was requested holds it in the queue until the freeze ends; an
            // emergency deployment (its reason was accepted when it was requested) goes on, ahead of those held.
            var frozen = Freezes.InForce((await environments.FreezesAsync(environment.Id)).Select(f => f.Window), Clock.GetUtcNow()) is not null;
            var candidates = frozen ? group.Where(d => d.EmergencyReason is not null).ToList() : group.ToList();
            if (candidates.Count == 0) continue;
            var (next, superseded) = DeploymentQueue.Next(candidates.Select(d => new QueuedDeployment(d.Id, d.QueuedAt ?? d.RequestedAt)).ToList(), environment.Settings.Queue);
            var chosen = candidates.First(d => d.Id == next!.Id);
            foreach (var s in superseded)
            {
                var row = candidates.First(d => d.Id == s.Id);
                if (await deployments.MoveAsync(row.Id, DeploymentState.Queued, DeploymentState.Superseded, Now(), $"superseded by deployment #{chosen.Number} ({chosen.Version})"))
                    await RecordAsync(row, AuditOutcomes.Succeeded, $"{row.Subject} superseded by deployment #{chosen.Number} (newest-wins)");
            }
            await StartAsync(chosen, environment, ct);
        }
    }

    private async Task StartAsync(DeploymentRow d, EnvironmentRow environment, CancellationToken ct)
    {
        try
        {
            // The lock: the unique index allows one running deployment per environment, whatever node asks.
            if (!await deployments.MoveAsync(d.Id, DeploymentState.Queued, DeploymentState.Running, Now())) return;
        }
        catch (DbException) { return; }
        // What it replaces is what is current now that it holds the lock; an automatic rollback replaces the failed release
        // it undoes (which may have partly reached the servers), not the last success it returns to.
        await deployments.SetPreviousReleaseAsync(d.Id, d.RollbackOf is { } failedId && await deployments.GetAsync(failedId) is { } failed
            ? failed.ReleaseId : await deployments.CurrentReleaseAsync(environment.Id));
        d = (await deployments.GetAsync(d.Id))!;

        var release = (await releases.GetAsync(d.ReleaseId))!;
        if (await CheckArtifactsAsync(release, ct) is { } mismatch) { await FailAsync(d, mismatch); return; }
        var deploy = PipelineParser.Parse(release.PipelineSnapshot).Pipeline?.Deploy;
        if (deploy is null) { await FailAsync(d, $"the pipeline file of release {release.Version} has no 'deploy:' section; nothing ran"); return; }

        var built = await jobs.BuildAsync(d, environment, release, deploy);
        if (built.Plan is not { } plan) { await FailAsync(d, built.Refusal!); return; }
        if (built.Targets.Count > 0) await targets.PlanAsync(d.Id, built.Targets);
        var (runId, pools) = await runs.CreateAsync(new NewRun(d.ProjectId, release.Branch, release.CommitSha, $"deploy {release.Version} to {environment.Name}",
            $"deployment #{d.Number} to {environment.Name}", plan, [], DeploymentId: d.Id), Now());
        if (!await deployments.SetRunAsync(d.Id, runId))
        {
            // Taken for orphaned (slow artifact checks on a busy node) and resolved meanwhile: this run must not deploy.
            await runService.CancelDeploymentRunAsync(runId);
            log.LogWarning("{Deployment} was resolved while its run {RunId} was being created; the run is cancelled", d.Subject, runId);
            return;
        }
        foreach (var pool in pools) signal.Signal(WorkSignal.Pool(pool));
        await RecordAsync(d, AuditOutcomes.Succeeded, $"{d.Subject} started as run {runId} on pool '{environment.Pool}'");
    }

    /// <summary>Null when every artifact of the release matches the digest recorded in it; else why not.</summary>
    private async Task<string?> CheckArtifactsAsync(ReleaseRow release, CancellationToken ct)
    {
        foreach (var a in await releases.ArtifactsAsync(release.Id))
        {
            var actual = await files.DigestOfStoredAsync(a.Sha256, ct);
            if (actual is null) return $"artifact '{a.Path}' of release {release.Version} is missing from the store; nothing ran";
            if (actual != a.Sha256)
                return $"artifact '{a.Path}' of release {release.Version} does not match its recorded digest (sha256 {a.Sha256}, file has {actual}); nothing ran";
        }
        return null;
    }

    private async Task FailAsync(DeploymentRow d, string reason)
    {
        if (await deployments.MoveAsync(d.Id, DeploymentState.Running, DeploymentState.Failed, Now(), reason))
            await RecordAsync(d, AuditOutcomes.Failed, $"{d.Subject} failed before anything ran: {reason}");
    }

    private async Task AutoDeployAsync()
    {
        foreach (var environment in await environments.AutoDeployAsync())
        {
            var latest = await releases.LatestAsync(environment.ProjectId);
            if (latest is null) continue;
            // Once per release: after it failed and rolled back, or a human rolled back, it is not asked again.
            if (await deployments.HasDeploymentOfAsync(environment.Id, latest.Id)) continue;
            if (await projects.GetAsync(environment.ProjectId) is not { } project) continue;
            try
            {
                var d = await service.RequestAsync(project, environment, latest, Initiator.System, DeploymentService.KindAuto);
                await RecordAsync(d, AuditOutcomes.Succeeded, $"{d.Subject} requested automatically for the new release");
            }
            catch (Exception e) when (e is ConflictException or PolicyRefusedException)
            {
                log.LogDebug("auto-deploy of {Version} to {Environment} waits: {Reason}", latest.Version, environment.Name, e.Message);
            }
        }
    }

    private Task RecordAsync(DeploymentRow d, string outcome, string detail) =>
        audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.DeploymentStart,
            $"project:{d.ProjectName} env:{d.Environment} deployment:{d.Number}", outcome, detail));
}
