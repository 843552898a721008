using Slipway.Contracts.Api;
using Slipway.Core.Releases;
using Slipway.Core.Runs;

namespace Slipway.Server.Runs;

/// <summary>
/// What people ask of a run: start it by hand, cancel it, retry it. The rules are here and in Core (<see cref="Transitions"/>,
/// <see cref="RunRetry"/>); the store only applies a change, conditionally on the state the rules were judged on, so a
/// run that moved meanwhile is judged again rather than changed blindly. A deployment's run changes only through its
/// deployment. Agents waiting for the changed jobs are woken.
/// </summary>
public sealed class RunService(RunStore runs, ProjectStore projects, MirrorDirectory mirrors, RunFactory factory, ChangeDetector detector,
    ReleaseSettingsStore releaseSettings, WorkSignal signal, TimeProvider clock)
{
    /// <summary>How often a change is judged again when the run moved between reading and writing (a job finishing meanwhile).</summary>
    private const int Attempts = 5;

    /// <summary>
    /// Starts a run by hand: of a branch's head as last fetched, or of a commit given, which must be on that branch (the
    /// branch decides what a run may do: release, protected secrets). Returns the run's id.
    /// </summary>
    public async Task<long> StartAsync(Actor actor, string name, StartRunRequest? request, CancellationToken ct)
    {
        var project = await projects.RequireAsync(name);
        var branch = string.IsNullOrWhiteSpace(request?.Branch) ? project.DefaultBranch : request.Branch;
        // A run of a protected branch gets its protected values: it must not build a head the last fetch saw from before the
        // branch was protected (an admin may have just reset the name away from someone's unreviewed commit). So when the
        // protection is newer than the last good fetch, fetch first, or refuse. (Older protection: pushes to the branch
        // are refused, or detected as direct pushes, so the recorded head is the branch's.)
        if ((await releaseSettings.GetAsync(project)).IsProtected(branch)
            && (project.LastFetchError is not null || await projects.ProtectedSinceAsync(project.Id, branch) >= (project.LastFetchAt ?? 0)))
        {
            var seen = await projects.HeadAsync(project.Id, branch);
            await detector.CheckAsync(project, ct, failOnFetchError: true);
            // The branch had moved: the check has just started the run of its new head, which is the run asked for (a
            // second one of the same commit would only repeat it).
            if (string.IsNullOrWhiteSpace(request?.Commit) && await projects.HeadAsync(project.Id, branch) is { } head && head != seen
                && (await runs.ForCommitAsync(project.Id, head)).Where(r => r.Branch == branch).MaxBy(r => r.Id) is { } started)
                return started.Id;
        }
        var mirror = await mirrors.ReadyAsync(project, string.IsNullOrWhiteSpace(request?.Commit) ? null : request.Commit, ct);
        string? commit;
        if (!string.IsNullOrWhiteSpace(request?.Commit))
        {
            commit = await mirror.ResolveCommitAsync(request.Commit, ct) ?? throw new ArgumentException($"commit '{request.Commit}' is not in the repository");
            // A run is labelled with its branch, and the branch decides what it may do (release, protected secrets), so it
            // may build only code that is on that branch: its head or an ancestor, as the mirror has it now.
            var head = await mirror.BranchHeadAsync(branch, ct) ?? throw new ArgumentException($"the repository has no branch '{branch}'");
            if (commit != head && !await mirror.IsAncestorAsync(commit, head, ct))
                throw new ConflictException(ReleaseBranches.NotOnBranch(commit, branch));
        }
        else
        {
            // The heads recorded at the last fetch (poll, webhook or create) — no git process on this path.
            commit = await projects.HeadAsync(project.Id, branch) ?? throw new ArgumentException($"the repository has no branch '{branch}'");
        }
        return await factory.StartAsync(project, branch, commit, "manual", ct, actor.User.Username);
    }

    public async Task<RunDetails> CancelAsync(long id)
    {
        await RunAsync(id, "cancelled", "slipway deployment cancel");
        await CancelRunAsync(id);
        return await GetAsync(id);
    }

    /// <summary>Stops the run of a deployment, for the deployment workflow (its own cancel, or a run that must not deploy).</summary>
    public Task CancelDeploymentRunAsync(long id) => CancelRunAsync(id);

    private async Task CancelRunAsync(long id)
    {
        for (var attempt = 1; ; attempt++)
        {
            var run = await runs.GetRunRowAsync(id) ?? throw new KeyNotFoundException($"no run {id}");
            var status = StatusNames.Parse(run.Status);
            Transitions.EnsureRun(id, status, ExecutionStatus.Cancelled);
            var running = await runs.CancelAsync(id, status, Now);
            if (running is null && attempt < Attempts) continue; // the run moved on meanwhile: judge again
            if (running is null) throw new ConflictException($"run {id} keeps changing; try again");
            foreach (var job in running) signal.Signal(WorkSignal.Job(job));
            return;
        }
    }

    public async Task<RunDetails> RetryAsync(long id, string? jobName)
    {
        for (var attempt = 1; ; attempt++)
        {
            await RunAsync(id, "retried", "slipway deploy, promote or rollback");
            var details = await GetAsync(id);
            var plan = RunRetry.Plan(details.Run.Number is { } number ? $"run #{number}" : $"run {id}", StatusNames.Parse(details.Run.Status),
                details.Jobs.Select(j => new RetryJob(j.Id, j.Name, StatusNames.Parse(j.Status), (int)j.StageIdx)).ToList(),
                string.IsNullOrWhiteSpace(jobName) ? null : jobName);
            var pools = await runs.RetryAsync(id, details.Run.Status, plan, Now);
            if (pools is null && attempt < Attempts) continue;
            if (pools is null) throw new ConflictException($"run {id} keeps changing; try again");
            foreach (var pool in pools) signal.Signal(WorkSignal.Pool(pool));
            return await GetAsync(id);
        }
    }

    public async Task<RunDetails> GetAsync(long id) => await runs.GetAsync(id) ?? throw new KeyNotFoundException($"no run {id}");

    /// <summary>
    /// The run, unless it executes a deployment: retrying it would deploy again without the environment's rules and
    /// approvals, and cancelling it belongs to the deployment's own cancel (deployment.start on that environment).
    /// </summary>
    private async Task<RunRow> RunAsync(long id, string what, string instead)
    {
        var run = await runs.GetRunRowAsync(id) ?? throw new KeyNotFoundException($"no run {id}");
        if (run.DeploymentId is not null)
            throw new PolicyRefusedException($"run {id} executes a deployment and cannot be {what} as a run; use {instead} (its rules and approvals apply)");
        if (run.CheckId is not null)
            throw new PolicyRefusedException($"run {id} executes live check {run.CheckId} and cannot be {what} as a run; the check runs again on its schedule");
        return run;
    }

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();
}
