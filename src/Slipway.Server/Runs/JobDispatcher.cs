using Slipway.Contracts.Agents;
using Slipway.Core.Secrets;

namespace Slipway.Server.Runs;

/// <summary>
/// Hands queued jobs to polling agents as leases. A poll that finds nothing waits on <see cref="WorkSignal"/>
/// for its pool, so a job queued while an agent waits reaches it at once; the wait is capped so the agent's
/// poll returns (204) and comes back, which also proves the agent is alive. A draining node (<see cref="NodeIdentity"/>)
/// answers every poll "no work".
/// </summary>
/// <remarks>
/// Variables: the project's plain variables go to every job (the file's env wins over them); secret variables
/// are decrypted here, at lease time, only for the jobs whose spec lists them, so a secret value is never
/// stored with a run. A job whose secrets cannot be provided is failed without running and the poll goes on.
/// Protected variables and secrets go only to deployments and to runs of protected branches; this is checked again
/// here although planning refused such runs, because a variable may have been protected since (a protected plain
/// variable is left out silently, a listed protected secret fails the job without retry).
/// </remarks>
public sealed class JobDispatcher(JobLeaseStore leases, RunStore runs, ArtifactStore artifacts, VariableStore variables, EnvironmentStore environments,
    ProjectStore projects, ReleaseSettingsStore releaseSettings, SecretVault vault, JobEvents events, LogStore logs, WorkSignal signal,
    ServerOptions options, TimeProvider clock, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime, NodeIdentity node)
{
    public async Task<JobLease?> PollAsync(Principal.Agent agent, TimeSpan wait, CancellationToken requestAborted)
    {
        // A shutting-down server answers waiting polls at once instead of holding its shutdown for them.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var ct = linked.Token;
        var deadline = clock.GetUtcNow() + (wait > options.AgentPollWait ? options.AgentPollWait : wait);
        var key = WorkSignal.Pool(agent.Pool);
        PlaceInLine? wokenBy = null; // the place whose wake-up sent this pass to the database
        while (!ct.IsCancellationRequested)
        {
            // A draining node hands out nothing new: "no work" (204), and the agent's next poll goes, through the load
            // balancer, to another node. Jobs already leased run on; their calls are still served here. The answer waits
            // a second (less if the agent asked to wait less), or agents still sent here would poll in a tight loop.
            if (node.Draining) return await DrainingAnswerAsync(deadline - clock.GetUtcNow(), ct);
            // Stand in line before looking, so a job queued between the look and the wait is not missed. Leaving the line
            // (the end of this pass) hands a wake-up this poll did not use to the next in line.
            using var place = signal.JoinLine(key);
            var job = await leases.TryClaimAsync(agent.Id, agent.Pool, agent.Labels, options.LeaseTimeout, Now());
            if (job is not null)
            {
                // Out of the line first: a wake-up meant for the pool's next job must reach another poll, not this one.
                place.Use();
                place.Dispose();
                // The pool may have more queued jobs: two more polls look. A signal wakes a few; they double with every
                // job handed out until the line is empty or the jobs are gone.
                if (signal.AnyInLine(key) && await leases.AnyClaimableAsync(agent.Pool)) signal.WakeInLine(key, 2);
                var lease = await ToLeaseAsync(job, ct);
                if (lease is not null) return lease;
                wokenBy = null;
                continue; // the job was failed; look again at once
            }
            // Woken for a job this agent cannot take (its labels) or that another poll took: if the pool still has a job
            // someone may take, the next of the polls that were waiting when the wake-up began looks, so a job for one
            // labelled agent reaches it at once wherever it stands, and the chain ends with the line as it was.
            if (wokenBy is not null && await leases.AnyClaimableAsync(agent.Pool)) wokenBy.HandOn();
            wokenBy = null;
            var left = deadline - clock.GetUtcNow();
            if (left <= TimeSpan.Zero) return null;
            // Re-check at least every 2 s: another server node may have queued work without signalling us.
            var recheck = left < TimeSpan.FromSeconds(2) ? left : TimeSpan.FromSeconds(2);
            try
            {
                await place.Task.WaitAsync(recheck, clock, ct);
                if (ct.IsCancellationRequested) return null; // not looked at: leaving hands the wake-up on
                place.Use();
                wokenBy = place;
            }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { return null; }
        }
        return null;
    }

    private async Task<JobLease?> DrainingAnswerAsync(TimeSpan left, CancellationToken ct)
    {
        var pause = left < DrainingPause ? left : DrainingPause;
        try { if (pause > TimeSpan.Zero) await Task.Delay(pause, clock, ct); }
        catch (OperationCanceledException) { }
        return null;
    }

    private static readonly TimeSpan DrainingPause = TimeSpan.FromSeconds(1);

    /// <summary>A reason on one line: the attempt line must stay one line for the log viewer to find it.</summary>
    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>How the line that starts a later attempt of a job begins, after "[slipway] " (the log viewer looks for it).</summary>
    public const string AttemptMarker = "attempt";

    /// <summary>The lease for a claimed job, or null when the job could not be handed out and was failed.</summary>
    private async Task<JobLease?> ToLeaseAsync(JobRow job, CancellationToken ct)
    {
        // A second attempt (an automatic retry, or the run retried) writes on after the first in the same log: a line of
        // Slipway's own says where it begins, and the log viewer folds what came before it (app.js, ATTEMPT). The job's
        // output is hostile and could print a look-alike line, so the line carries a random mark kept with the job, and the
        // viewer folds only at a line whose mark the server lists.
        if (job.Attempt > 1)
        {
            var mark = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
            await leases.AddAttemptMarkAsync(job.Id, mark);
            // How the attempt before ended, when its own retry put it back (a run retried by hand starts from a cleared reason).
            var before = job.FailureReason is { } reason && reason.StartsWith(JobLeaseStore.RetryingPrefix, StringComparison.Ordinal)
                ? $"; attempt {job.Attempt - 1} failed: {OneLine(reason[JobLeaseStore.RetryingPrefix.Length..])}" : "";
            await logs.AppendNoteAsync(job.Id, $"{AttemptMarker} {job.Attempt} of job '{job.Name}' started {WebUi.Utc(clock.GetUtcNow())} UTC{before} (mark {mark})");
        }
        var run = (await runs.GetRunRowAsync(job.RunId))!;
        var spec = JobSpec.FromJson(job.Spec);
        var projectVariables = (await variables.ListAsync(run.ProjectId)).ToDictionary(v => v.Name, StringComparer.Ordinal);
        // A deployment's job (or a live check's script) also gets its environment's variables and secrets, which win over
        // the project's (and, like everything a deployment gets, count as protected).
        if (run.EnvironmentId is { } environmentId)
            foreach (var v in await environments.VariablesAsync(environmentId))
                projectVariables[v.Name] = new VariableRow { ProjectId = run.ProjectId, Name = v.Name, Value = v.Value, Secret = v.Secret ? 1 : 0, Ciphertext = v.Ciphertext, Protected = 1 };
        // The branch's protection is looked up only when a protected value is at stake (most leases pay nothing).
        var mayReceiveProtected = run.Kind != RunKinds.Ci || !projectVariables.Values.Any(v => v.IsProtected) || await IsProtectedBranchAsync(run);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in projectVariables.Values)
            if (!variable.IsSecret && variable.Value is not null && (mayReceiveProtected || !variable.IsProtected)) env[variable.Name] = variable.Value;
        foreach (var (name, value) in spec.Env) env[name] = value; // the file wins over a plain project variable
        var secretNames = new List<string>();
        foreach (var name in spec.Secrets ?? [])
        {
            var problem = !projectVariables.TryGetValue(name, out var variable)
                ? $"secret '{name}' is not defined in project '{run.ProjectName}'; set it with: slipway var set {run.ProjectName} {name} --secret --value-stdin"
                : !variable.IsSecret || variable.Ciphertext is null
                    ? $"'{name}' is a plain variable of project '{run.ProjectName}', not a secret; set it again with --secret"
                    : variable.IsProtected && !mayReceiveProtected
                        ? VariableProtection.Refusal(job.Name, name, run.Branch, protectedLater: run.BranchProtected != 1 && await IsProtectedNowAsync(run))
                        : null;
            var value = problem is null ? vault.TryUnprotect(variable!.Ciphertext!) : null;
            if (problem is null && value is null)
                problem = $"secret '{name}' of project '{run.ProjectName}' cannot be decrypted (was the key ring in DATA/keys lost or replaced?); set it again";
            if (problem is not null)
            {
                await RefuseAsync(job, problem);
                return null;
            }
            env[name] = value!;
            secretNames.Add(name);
        }
        env["SLIPWAY_PROJECT"] = run.ProjectName;
        env["SLIPWAY_BRANCH"] = run.Branch;
        env["SLIPWAY_COMMIT"] = run.CommitSha;
        env["SLIPWAY_RUN"] = run.Id.ToString();
        env["SLIPWAY_RUN_NUMBER"] = run.Number?.ToString() ?? ""; // none for a deployment's or a check's run
        env["SLIPWAY_JOB"] = job.Name;
        env["SLIPWAY_ATTEMPT"] = job.Attempt.ToString();
        env["CI"] = "true";
        var downloads = (await artifacts.ForStagesBeforeAsync(job.RunId, job.StageIdx))
            .Select(a => new ArtifactRef(a.Path, a.Sha256, a.Size, a.Executable != 0)).ToList();
        return new JobLease(job.Id, job.LeaseId!, UnixMs.To(job.LeaseExpiresAt!.Value), (int)options.LeaseTimeout.TotalSeconds,
            run.Id, run.ProjectName, run.Branch, run.CommitSha, job.Name, spec.Script, env, spec.TimeoutSeconds,
            options.LogLimitBytes, spec.Artifacts, spec.Reports, downloads, secretNames,
            spec.Rollout is null ? null : System.Text.Json.JsonSerializer.Deserialize<RolloutJob>(spec.Rollout, RolloutJson.Options), spec.Metrics);
    }

    /// <summary>
    /// Whether a build run may have protected values: its branch was protected when the run was made (so its commit was
    /// the branch's fetched head then, or on it; an external repository's direct pushes are detected and flagged, not
    /// stopped) and still is. The name alone is not enough: a run made while the branch was anyone's (release/2 pushed by
    /// a developer before an admin protected the name) keeps its unreviewed commit when retried.
    /// </summary>
    private async Task<bool> IsProtectedBranchAsync(RunRow run) =>
        run.BranchProtected == 1 && await IsProtectedNowAsync(run);

    private async Task<bool> IsProtectedNowAsync(RunRow run) =>
        await projects.GetAsync(run.ProjectId) is { } project && (await releaseSettings.GetAsync(project)).IsProtected(run.Branch);

    private async Task RefuseAsync(JobRow job, string reason)
    {
        await logs.AppendNoteAsync(job.Id, reason);
        var change = await leases.FailWithoutRetryAsync(job.Id, job.LeaseId!, reason, await logs.LengthAsync(job.Id), Now());
        if (change is not null) events.Finished(change);
    }

    private long Now() => clock.GetUtcNow().ToUnixTimeMilliseconds();
}
