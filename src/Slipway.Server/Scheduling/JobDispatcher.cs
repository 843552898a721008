using Slipway.Contracts.Agents;
using Slipway.Server.Access;
using Slipway.Server.Hosting;
using Slipway.Server.Storage;

namespace Slipway.Server.Scheduling;

/// <summary>
/// Hands queued jobs to polling agents as leases. A poll that finds nothing waits on <see cref="WorkSignal"/>
/// for its pool, so a job queued while an agent waits reaches it at once; the wait is capped so the agent's
/// poll returns (204) and comes back, which also proves the agent is alive.
/// </summary>
public sealed class JobDispatcher(JobLeaseStore leases, RunStore runs, ArtifactStore artifacts, WorkSignal signal,
    ServerOptions options, TimeProvider clock, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
{
    public async Task<JobLease?> PollAsync(Principal.Agent agent, TimeSpan wait, CancellationToken requestAborted)
    {
        // A shutting-down server answers waiting polls at once instead of holding its shutdown for them.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var ct = linked.Token;
        var deadline = clock.GetUtcNow() + (wait > options.AgentPollWait ? options.AgentPollWait : wait);
        while (!ct.IsCancellationRequested)
        {
            // Take the signal before looking, so a job queued between the look and the wait is not missed.
            var woken = signal.WaitAsync(WorkSignal.Pool(agent.Pool));
            var job = await leases.TryClaimAsync(agent.Id, agent.Pool, agent.Labels, options.LeaseTimeout, Now());
            if (job is not null) return await ToLeaseAsync(job, ct);
            var left = deadline - clock.GetUtcNow();
            if (left <= TimeSpan.Zero) return null;
            // Re-check at least every 2 s: another server node may have queued work without signalling us.
            var recheck = left < TimeSpan.FromSeconds(2) ? left : TimeSpan.FromSeconds(2);
            try { await woken.WaitAsync(recheck, clock, ct); }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { return null; }
        }
        return null;
    }

    private async Task<JobLease> ToLeaseAsync(JobRow job, CancellationToken ct)
    {
        var run = (await runs.GetRunRowAsync(job.RunId))!;
        var spec = JobSpec.FromJson(job.Spec);
        var env = new Dictionary<string, string>(spec.Env, StringComparer.Ordinal)
        {
            ["SLIPWAY_PROJECT"] = run.ProjectName,
            ["SLIPWAY_BRANCH"] = run.Branch,
            ["SLIPWAY_COMMIT"] = run.CommitSha,
            ["SLIPWAY_RUN"] = run.Id.ToString(),
            ["SLIPWAY_RUN_NUMBER"] = run.Number.ToString(),
            ["SLIPWAY_JOB"] = job.Name,
            ["SLIPWAY_ATTEMPT"] = job.Attempt.ToString(),
            ["CI"] = "true",
        };
        var downloads = (await artifacts.ForStagesBeforeAsync(job.RunId, job.StageIdx))
            .Select(a => new ArtifactRef(a.Path, a.Sha256, a.Size, a.Executable != 0)).ToList();
        return new JobLease(job.Id, job.LeaseId!, UnixMs.To(job.LeaseExpiresAt!.Value), (int)options.LeaseTimeout.TotalSeconds,
            run.Id, run.ProjectName, run.Branch, run.CommitSha, job.Name, spec.Script, env, spec.TimeoutSeconds,
            options.LogLimitBytes, spec.Artifacts, spec.Reports, downloads);
    }

    private long Now() => clock.GetUtcNow().ToUnixTimeMilliseconds();
}
